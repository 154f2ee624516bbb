import { describe, expect, it } from "vitest";
import { makeNode, makePod, runScore } from "../../../test/support/scheduler.ts";
import type { Taint, Toleration } from "../k8s-types.ts";
import { taintTolerationScore } from "./taint-toleration.ts";

const prefer = (key: string, value: string): Taint => ({ key, value, effect: "PreferNoSchedule" });
const score = (tolerations: Toleration[], taints: Taint[][]) =>
  runScore(
    taintTolerationScore,
    taints.map((t, i) => ({ node: makeNode(`node${i}`, { taints: t }) })),
    makePod("pod1", { tolerations }),
  );

// k8s taint_toleration_test.go TestTaintTolerationScore
describe("TaintToleration score (PreferNoSchedule, reverse-normalized)", () => {
  it("a node whose taints are tolerated beats one whose are not", () => {
    expect(
      score(
        [{ key: "foo", operator: "Equal", value: "bar", effect: "PreferNoSchedule" }],
        [[prefer("foo", "bar")], [prefer("foo", "blah")]],
      ),
    ).toEqual([100, 0]);
  });
  it("the number of tolerated taints does not matter", () => {
    const tolerations: Toleration[] = [
      { key: "cpu-type", operator: "Equal", value: "arm64", effect: "PreferNoSchedule" },
      { key: "disk-type", operator: "Equal", value: "ssd", effect: "PreferNoSchedule" },
    ];
    expect(
      score(tolerations, [
        [],
        [prefer("cpu-type", "arm64")],
        [prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")],
      ]),
    ).toEqual([100, 100, 100]);
  });
  it("the more intolerable taints, the lower the score", () => {
    expect(
      score(
        [{ key: "foo", operator: "Equal", value: "bar", effect: "PreferNoSchedule" }],
        [[], [prefer("cpu-type", "arm64")], [prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")]],
      ),
    ).toEqual([100, 50, 0]);
  });
  it("only PreferNoSchedule taints and tolerations count", () => {
    const tolerations: Toleration[] = [
      { key: "cpu-type", operator: "Equal", value: "arm64", effect: "NoSchedule" },
      { key: "disk-type", operator: "Equal", value: "ssd", effect: "NoSchedule" },
    ];
    expect(
      score(tolerations, [
        [],
        [{ key: "cpu-type", value: "arm64", effect: "NoSchedule" }],
        [prefer("cpu-type", "arm64"), prefer("disk-type", "ssd")],
      ]),
    ).toEqual([100, 100, 0]);
  });
  it("default: no taints and tolerations lands on the untainted node", () => {
    expect(score([], [[], [prefer("cpu-type", "arm64")]])).toEqual([100, 0]);
  });
});
