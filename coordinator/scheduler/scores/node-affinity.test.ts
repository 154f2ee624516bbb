import { describe, expect, it } from "vitest";
import { makePod, runScore } from "../../../test/support/scheduler.ts";
import { resolveSchedulerConfig } from "../config.ts";
import type { Affinity } from "../k8s-types.ts";
import type { NodeInput } from "../snapshot.ts";
import { nodeAffinityScore } from "./node-affinity.ts";

const node = (name: string, labels: Record<string, string>): NodeInput => ({
  node: { metadata: { name, labels }, status: { allocatable: { pods: "10" } } },
});
const label1 = { foo: "bar" };
const label2 = { key: "value" };
const label3 = { az: "az1" };
const label4 = { abc: "az11", def: "az22" };
const label5 = { foo: "bar", key: "value", az: "az1" };
const affinity1: Affinity = {
  nodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 2, preference: { matchExpressions: [{ key: "foo", operator: "In", values: ["bar"] }] } },
    ],
  },
};
const affinity2: Affinity = {
  nodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 2, preference: { matchExpressions: [{ key: "foo", operator: "In", values: ["bar"] }] } },
      { weight: 4, preference: { matchExpressions: [{ key: "key", operator: "In", values: ["value"] }] } },
      {
        weight: 5,
        preference: {
          matchExpressions: [
            { key: "foo", operator: "In", values: ["bar"] },
            { key: "key", operator: "In", values: ["value"] },
            { key: "az", operator: "In", values: ["az1"] },
          ],
        },
      },
    ],
  },
};

// k8s node_affinity_test.go TestNodeAffinityPriority
describe("NodeAffinity score (preferred terms, normalized to 0-100)", () => {
  it("skips a pod without preferred affinity", () => {
    expect(runScore(nodeAffinityScore, [node("node1", label1)], makePod("p"))).toBeUndefined();
  });
  it("no node matches: all zero", () => {
    expect(
      runScore(
        nodeAffinityScore,
        [node("node1", label4), node("node2", label2), node("node3", label3)],
        makePod("p", { affinity: affinity1 }),
      ),
    ).toEqual([0, 0, 0]);
  });
  it("only node1 matches", () => {
    expect(
      runScore(
        nodeAffinityScore,
        [node("node1", label1), node("node2", label2), node("node3", label3)],
        makePod("p", { affinity: affinity1 }),
      ),
    ).toEqual([100, 0, 0]);
  });
  it("all nodes match with different priorities: 18, 100, 36", () => {
    expect(
      runScore(
        nodeAffinityScore,
        [node("node1", label1), node("node5", label5), node("node2", label2)],
        makePod("p", { affinity: affinity2 }),
      ),
    ).toEqual([18, 100, 36]);
  });
  it("ignores zero-weight terms", () => {
    const zero: Affinity = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 0, preference: { matchExpressions: [{ key: "foo", operator: "Exists" }] } },
        ],
      },
    };
    expect(
      runScore(nodeAffinityScore, [node("node1", label1)], makePod("p", { affinity: zero })),
    ).toBeUndefined();
  });
});

// k8s node_affinity_test.go TestNodeAffinityPriority, NodeAffinityArgs.addedAffinity cases.
describe("NodeAffinity score with the profile's addedAffinity", () => {
  it("added affinity", () => {
    const config = resolveSchedulerConfig({
      nodeAffinity: { addedAffinity: affinity1.nodeAffinity },
    });
    expect(
      runScore(nodeAffinityScore, [node("node1", label1), node("node2", label2)], makePod("p"), config),
    ).toEqual([100, 0]);
  });

  it("added affinity and pod has default affinity", () => {
    const config = resolveSchedulerConfig({
      nodeAffinity: {
        addedAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 3,
              preference: { matchExpressions: [{ key: "key", operator: "In", values: ["value"] }] },
            },
          ],
        },
      },
    });
    const nodes = [node("node1", label1), node("node2", label2), node("node3", label5)];
    expect(runScore(nodeAffinityScore, nodes, makePod("p", { affinity: affinity1 }), config)).toEqual([
      40, 60, 100,
    ]);
  });
});
