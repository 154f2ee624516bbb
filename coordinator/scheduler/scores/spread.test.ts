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

describe("system default zone constraint (maxSkew 5)", () => {
  const zoned = (zones: Array<string | undefined>, counts: number[]): NodeInput[] =>
    counts.map((n, i) => ({
      node: makeNode(
        `node-${i}`,
        zones[i] ? { labels: { "topology.kubernetes.io/zone": zones[i] as string } } : {},
      ),
      pods: Array.from({ length: n }, (_, j) => makePod(`p-${i}-${j}`, { labels: { foo: "" } })),
    }));

  it("adds the zone's matching pods: a node in a busy zone loses to one in a quiet zone", () => {
    // host weight ln(5), zone weight ln(4): raw a = round(2·ln5 + 2 + 2·ln4 + 4) = 12, b = round(2 + 2·ln4 + 4) = 9,
    // c = round(ln5 + 2 + ln4 + 4) = 9 → 100·(21 − raw)/12.
    expect(runScore(spreadScore, zoned(["z1", "z1", "z2"], [2, 0, 1]), incoming, withFoo(3))).toEqual([
      75, 100, 100,
    ]);
    // Without zone labels the same pods score by hostname only: 5, 2, 4 → 40, 100, 60.
    expect(
      runScore(spreadScore, zoned([undefined, undefined, undefined], [2, 0, 1]), incoming, withFoo(3)),
    ).toEqual([40, 100, 60]);
  });

  it("a node without the zone label is scored on hostname alone", () => {
    // a: round(2·ln5 + 2 + 2·ln3 + 4) = 11; b (no zone): round(0 + 2) = 2; c: round(ln5 + 2) = 4 (zone z1 has 2, c has none)
    expect(
      runScore(spreadScore, zoned(["z1", undefined, undefined], [2, 0, 1]), incoming, withFoo(3)),
    ).toEqual([Math.trunc((100 * (11 + 2 - 11)) / 11), 100, Math.trunc((100 * (11 + 2 - 4)) / 11)]);
  });
});
