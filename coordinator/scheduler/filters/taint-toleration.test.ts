import { describe, expect, it } from "vitest";
import { makeNode, makePod, runFilter } from "../../../test/support/scheduler.ts";
import type { Taint, Toleration } from "../k8s-types.ts";
import { toleratesTaint } from "../taints.ts";
import { taintToleration } from "./taint-toleration.ts";

const filter = (taints: Taint[], tolerations: Toleration[], ready?: "True" | "False" | "Unknown") =>
  runFilter(
    taintToleration,
    { node: makeNode("nodeA", { taints, ...(ready ? { ready } : {}) }) },
    makePod("pod1", { tolerations }),
  );

describe("TaintToleration filter (k8s taint_toleration_test.go TestTaintTolerationFilter)", () => {
  const cases: Array<[string, Taint[], Toleration[], string | null]> = [
    [
      "no tolerations vs a NoSchedule taint",
      [{ key: "dedicated", value: "user1", effect: "NoSchedule" }],
      [],
      "node(s) had untolerated taint {dedicated: user1}",
    ],
    [
      "toleration with no operator equals key/value/effect",
      [{ key: "dedicated", value: "user1", effect: "NoSchedule" }],
      [{ key: "dedicated", value: "user1", effect: "NoSchedule" }],
      null,
    ],
    [
      "Equal with a different value",
      [{ key: "dedicated", value: "user1", effect: "NoSchedule" }],
      [{ key: "dedicated", operator: "Equal", value: "user2", effect: "NoSchedule" }],
      "node(s) had untolerated taint {dedicated: user1}",
    ],
    [
      "Exists tolerates any value",
      [{ key: "foo", value: "bar", effect: "NoSchedule" }],
      [{ key: "foo", operator: "Exists", effect: "NoSchedule" }],
      null,
    ],
    [
      "all of several taints tolerated",
      [
        { key: "dedicated", value: "user2", effect: "NoSchedule" },
        { key: "foo", value: "bar", effect: "NoSchedule" },
      ],
      [
        { key: "dedicated", operator: "Equal", value: "user2", effect: "NoSchedule" },
        { key: "foo", operator: "Exists", effect: "NoSchedule" },
      ],
      null,
    ],
    [
      "effect must match when set",
      [{ key: "foo", value: "bar", effect: "NoSchedule" }],
      [{ key: "foo", operator: "Equal", value: "bar", effect: "PreferNoSchedule" }],
      "node(s) had untolerated taint {foo: bar}",
    ],
    [
      "empty effect matches all effects",
      [{ key: "foo", value: "bar", effect: "NoSchedule" }],
      [{ key: "foo", operator: "Equal", value: "bar" }],
      null,
    ],
    [
      "PreferNoSchedule taints never filter",
      [{ key: "dedicated", value: "user1", effect: "PreferNoSchedule" }],
      [],
      null,
    ],
    [
      "NoExecute taints filter",
      [{ key: "edge", value: "true", effect: "NoExecute" }],
      [],
      "node(s) had untolerated taint {edge: true}",
    ],
    [
      "empty key with Exists tolerates everything",
      [{ key: "edge", value: "true", effect: "NoExecute" }],
      [{ operator: "Exists" }],
      null,
    ],
    // API validation forbids an empty key with Equal, but ToleratesTaint itself then compares values only.
    [
      "empty key with Equal compares the value only",
      [{ key: "edge", value: "true", effect: "NoSchedule" }],
      [{ operator: "Equal", value: "true" }],
      null,
    ],
    [
      "empty key with Equal, other value",
      [{ key: "edge", value: "true", effect: "NoSchedule" }],
      [{ operator: "Equal", value: "x" }],
      "node(s) had untolerated taint {edge: true}",
    ],
    [
      "the first untolerated taint in node order is reported",
      [
        { key: "a", value: "1", effect: "NoSchedule" },
        { key: "b", value: "2", effect: "NoSchedule" },
      ],
      [{ key: "a", operator: "Exists" }],
      "node(s) had untolerated taint {b: 2}",
    ],
    [
      "a taint without value prints an empty value",
      [{ key: "gpu", effect: "NoSchedule" }],
      [],
      "node(s) had untolerated taint {gpu: }",
    ],
  ];
  it.each(cases)("%s", (_name, taints, tolerations, want) => {
    expect(filter(taints, tolerations)).toBe(want);
  });

  it("rejects a NotReady node with the taint the node lifecycle controller adds", () => {
    expect(filter([], [], "False")).toBe("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
    expect(filter([], [], "Unknown")).toBe(
      "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
    );
    expect(filter([], [], "True")).toBeNull();
  });

  it("lets a pod that tolerates not-ready (a DaemonSet) onto a NotReady node", () => {
    expect(
      filter(
        [],
        [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }],
        "False",
      ),
    ).toBeNull();
  });

  it("does not tolerate with the alpha Lt/Gt operators (feature gate off by default)", () => {
    expect(
      toleratesTaint(
        { key: "k", operator: "Gt", value: "1" },
        { key: "k", value: "5", effect: "NoSchedule" },
      ),
    ).toBe(false);
  });
});
