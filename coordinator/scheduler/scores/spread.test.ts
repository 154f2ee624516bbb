import { describe, expect, it } from "vitest";
import { makeNode, makePod, runScore } from "../../../test/support/scheduler.ts";
import { resolveSchedulerConfig } from "../config.ts";
import type { NodeInput } from "../snapshot.ts";
import { spreadRawScore, spreadScore } from "./spread.ts";

const withFoo = (maxSkew: number) => resolveSchedulerConfig({ spread: { labelKeys: ["foo"], maxSkew } });
const nodesWith = (...counts: number[]): NodeInput[] =>
  counts.map((n, i) => ({
    node: makeNode(`node-${i}`),
    pods: Array.from({ length: n }, (_, j) => makePod(`p-${i}-${j}`, { labels: { foo: "" } })),
  }));
const incoming = makePod("p", { labels: { foo: "" } });

// k8s podtopologyspread/scoring_test.go TestPodTopologySpreadScore, hostname constraint.
describe("spread score (PodTopologySpread hostname scoring)", () => {
  const cases: Array<[string, number[], number, number[]]> = [
    ["no existing pods", [0, 0], 1, [100, 100]],
    ["only one candidate node", [2], 1, [100]],
    ["same number of matching pods everywhere", [1, 1], 1, [100, 100]],
    ["2/1/0/3, maxSkew=1", [2, 1, 0, 3], 1, [20, 60, 100, 0]],
    ["2/1/0/3, maxSkew=2", [2, 1, 0, 3], 2, [33, 66, 100, 16]],
    ["4/3/2/1, maxSkew=3", [4, 3, 2, 1], 3, [44, 66, 77, 100]],
    ["4/2/1 over 3 candidates, maxSkew=1", [4, 2, 1], 1, [33, 83, 100]],
  ];
  it.each(cases)("%s", (_name, counts, maxSkew, want) => {
    expect(runScore(spreadScore, nodesWith(...counts), incoming, withFoo(maxSkew))).toEqual(want);
  });

  it("system default (maxSkew 3) matches kube-scheduler's 'system defaulting' case: 44/66/77/100", () => {
    expect(
      runScore(
        spreadScore,
        nodesWith(4, 3, 2, 1),
        incoming,
        resolveSchedulerConfig({ spread: { labelKeys: ["foo"] } }),
      ),
    ).toEqual([44, 66, 77, 100]);
  });

  it("counts only pods of the same namespace that carry every selector label", () => {
    const nodes: NodeInput[] = [
      {
        node: makeNode("a"),
        pods: [
          makePod("x1", { labels: { app: "web", "app.kubernetes.io/instance": "prod" } }),
          makePod("x2", { labels: { app: "web", "app.kubernetes.io/instance": "prod" }, namespace: "other" }),
          makePod("x3", { labels: { app: "web", "app.kubernetes.io/instance": "dev" } }),
        ],
      },
      { node: makeNode("b") },
    ];
    const pod = makePod("new", { labels: { app: "web", "app.kubernetes.io/instance": "prod" } });
    // a: 1 matching (raw round(1·ln 4 + 2) = 3), b: 0 (raw 2) → a = 100·(3+2-3)/3 = 66
    expect(runScore(spreadScore, nodes, pod)).toEqual([66, 100]);
    expect(spreadRawScore(1, 2, 3)).toBe(3);
  });

  it("skips pods without app labels", () => {
    expect(runScore(spreadScore, nodesWith(1, 0), makePod("p"))).toBeUndefined();
  });
});
