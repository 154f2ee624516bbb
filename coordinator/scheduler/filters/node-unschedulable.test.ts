import { describe, expect, it } from "vitest";
import { makeNode, makePod, runFilter } from "../../../test/support/scheduler.ts";
import { nodeName } from "./node-name.ts";
import { nodeUnschedulable } from "./node-unschedulable.ts";

describe("NodeUnschedulable filter", () => {
  const cases: Array<[string, boolean, Parameters<typeof makePod>[1], string | null]> = [
    ["schedulable node", false, {}, null],
    ["cordoned node", true, {}, "node(s) were unschedulable"],
    [
      "cordoned node, pod tolerates node.kubernetes.io/unschedulable:NoSchedule",
      true,
      {
        tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
      },
      null,
    ],
    [
      "cordoned node, toleration for another effect",
      true,
      { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoExecute" }] },
      "node(s) were unschedulable",
    ],
    ["cordoned node, tolerate-everything toleration", true, { tolerations: [{ operator: "Exists" }] }, null],
  ];
  it.each(cases)("%s", (_name, unschedulable, podOptions, want) => {
    expect(
      runFilter(nodeUnschedulable, { node: makeNode("n1", { unschedulable }) }, makePod("p", podOptions)),
    ).toBe(want);
  });
});

describe("NodeName filter", () => {
  it("admits only the named node", () => {
    expect(runFilter(nodeName, { node: makeNode("n1") }, makePod("p", { nodeName: "n1" }))).toBeNull();
    expect(runFilter(nodeName, { node: makeNode("n1") }, makePod("p", { nodeName: "n2" }))).toBe(
      "node(s) didn't match the requested node name",
    );
    expect(runFilter(nodeName, { node: makeNode("n1") }, makePod("p"))).toBeNull();
  });
});
