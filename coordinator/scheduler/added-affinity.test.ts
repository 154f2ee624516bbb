// NodeAffinityArgs.addedAffinity in whole decisions (k8s node_affinity_test.go TestNodeAffinity "added
// affinity" cases) and its validation (ValidateNodeAffinityArgs).
import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../test/support/scheduler.ts";
import { resolveSchedulerConfig } from "./config.ts";
import { schedule } from "./engine.ts";
import { ERR_REASON_ENFORCED, ERR_REASON_NODE_AFFINITY } from "./filters/node-affinity.ts";
import type { NodeAffinity } from "./k8s-types.ts";
import { buildSnapshot } from "./snapshot.ts";

const zoneIn = (...values: string[]): NodeAffinity => ({
  requiredDuringSchedulingIgnoredDuringExecution: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values }] }],
  },
});
const snapshot = () =>
  buildSnapshot([
    { node: makeNode("node1", { labels: { zone: "foo" } }) },
    { node: makeNode("node2", { labels: { zone: "bar" } }) },
  ]);

describe("addedAffinity in the NodeAffinity filter", () => {
  it("a node outside the added affinity is rejected in kube-scheduler's words", () => {
    const config = resolveSchedulerConfig({ nodeAffinity: { addedAffinity: zoneIn("bar") } });
    const d = schedule(snapshot(), makePod("p"), config, 0);
    expect(d.node).toBe("node2");
    expect(d.rejections).toEqual([{ node: "node1", filter: "NodeAffinity", reason: ERR_REASON_ENFORCED }]);
  });

  it("is checked before the pod's own node affinity, and both must hold", () => {
    const config = resolveSchedulerConfig({ nodeAffinity: { addedAffinity: zoneIn("bar") } });
    const pod = makePod("p", { nodeSelector: { zone: "foo" } });
    const d = schedule(snapshot(), pod, config, 0);
    expect(d.status).toBe("unschedulable");
    expect(d.rejections.map((r) => [r.node, r.reason])).toEqual([
      ["node1", ERR_REASON_ENFORCED],
      ["node2", ERR_REASON_NODE_AFFINITY],
    ]);
  });

  it("without addedAffinity nothing changes", () => {
    const d = schedule(snapshot(), makePod("p"), resolveSchedulerConfig(), 0);
    expect(d.feasible).toBe(2);
  });
});

describe("addedAffinity validation", () => {
  const problems = (addedAffinity: unknown) => {
    try {
      resolveSchedulerConfig({ nodeAffinity: { addedAffinity: addedAffinity as NodeAffinity } });
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  };
  it("accepts a valid NodeAffinity", () => {
    expect(problems(zoneIn("a", "b"))).toEqual([]);
  });
  it("names every bad part", () => {
    expect(
      problems({
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 0, preference: { matchExpressions: [{ key: "zone", operator: "Near", values: ["a"] }] } },
        ],
        requiredDuringSchedulingRequiredDuringExecution: {},
      }),
    ).toEqual([
      "nodeAffinity.addedAffinity.requiredDuringSchedulingRequiredDuringExecution is not a node affinity field",
      "nodeAffinity.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms must list at least one term",
      "nodeAffinity.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight must be an integer from 1 to 100, got 0",
      "nodeAffinity.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference has an invalid requirement (operator, values or label key)",
    ]);
    expect(problems("zone=a")).toEqual(["nodeAffinity.addedAffinity must be a node affinity object"]);
  });
});
