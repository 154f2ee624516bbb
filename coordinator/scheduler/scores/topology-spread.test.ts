// Cases of kube-scheduler's podtopologyspread scoring_test.go (TestPodTopologySpreadScore): the same
// pods, candidate and failed nodes, and normalized scores.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import type { Node, Pod, TopologySpreadConstraint } from "../k8s-types.ts";
import { compilePod } from "../pod.ts";
import { buildSnapshot } from "../snapshot.ts";
import { podTopologySpreadScore } from "./topology-spread.ts";

const HOST = "kubernetes.io/hostname";
const node = (name: string, labels: Record<string, string>): Node => ({
  metadata: { name, labels },
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
});
const host = (name: string, zone?: string) => node(name, { [HOST]: name, ...(zone ? { zone } : {}) });
const soft = (maxSkew: number, topologyKey: string, key = "foo"): TopologySpreadConstraint => ({
  maxSkew,
  topologyKey,
  whenUnsatisfiable: "ScheduleAnyway",
  labelSelector: { matchExpressions: [{ key, operator: "Exists" }] },
});
let seq = 0;
/** e.g. "a:foo" ×2 → two pods with label foo on node-a; "b:foo,bar" → one pod with foo and bar. */
const spread = (...specs: string[]): Array<[string, Pod]> =>
  specs.map((s) => {
    const [at, keys] = s.split(":") as [string, string];
    const labels = Object.fromEntries(keys.split(",").map((k) => [k, ""]));
    return [
      `node-${at}`,
      { metadata: { name: `e${seq++}`, namespace: "default", labels }, spec: { containers: [] } },
    ];
  });

function scores(
  constraints: TopologySpreadConstraint[],
  labels: Record<string, string>,
  candidates: readonly Node[],
  failed: readonly Node[],
  placed: ReadonlyArray<[string, Pod]>,
): Record<string, number> {
  const nodes = [...candidates, ...failed];
  const snapshot = buildSnapshot(
    nodes.map((n) => ({ node: n, pods: placed.filter(([at]) => at === n.metadata.name).map(([, p]) => p) })),
  );
  const pod: Pod = {
    metadata: { name: "p", namespace: "default", labels },
    spec: { containers: [{ name: "c" }], topologySpreadConstraints: constraints },
  };
  const config = DEFAULT_SCHEDULER_CONFIG;
  const ctx = { snapshot, pod: compilePod(pod, config), config, now: 0 };
  const feasible = Int32Array.from(candidates.map((_, i) => i));
  const out = new Float64Array(candidates.length);
  expect(podTopologySpreadScore.scoreAll(feasible, candidates.length, out, ctx)).toBe(true);
  return Object.fromEntries(candidates.map((n, i) => [n.metadata.name, out[i] as number]));
}
const abcd = () => ["node-a", "node-b", "node-c", "node-d"].map((n) => host(n));
const rep = (s: string, n: number) => Array.from({ length: n }, () => s);

describe("PodTopologySpread Score (TestPodTopologySpreadScore)", () => {
  it("one constraint on node, all 4 nodes are candidates, maxSkew=2", () => {
    const placed = spread(...rep("a:foo", 2), "b:foo", ...rep("d:foo", 3));
    expect(scores([soft(2, HOST)], { foo: "" }, abcd(), [], placed)).toEqual({
      "node-a": 33,
      "node-b": 66,
      "node-c": 100,
      "node-d": 16,
    });
  });

  it("one constraint on node, all 4 nodes are candidates, maxSkew=3", () => {
    const placed = spread(...rep("a:foo", 4), ...rep("b:foo", 3), ...rep("c:foo", 2), "d:foo");
    expect(scores([soft(3, HOST)], { foo: "" }, abcd(), [], placed)).toEqual({
      "node-a": 44,
      "node-b": 66,
      "node-c": 77,
      "node-d": 100,
    });
  });

  const p4213 = () => spread(...rep("a:foo", 4), ...rep("b:foo", 2), "x:foo", ...rep("y:foo", 3));

  it("one constraint on node, 3 out of 4 nodes are candidates", () => {
    const candidates = [host("node-a"), host("node-b"), host("node-x")];
    expect(scores([soft(1, HOST)], { foo: "" }, candidates, [host("node-y")], p4213())).toEqual({
      "node-a": 33,
      "node-b": 83,
      "node-x": 100,
    });
  });

  it("one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key", () => {
    const candidates = [host("node-a"), node("node-b", { n: "node-b" }), host("node-x")];
    expect(scores([soft(1, HOST)], { foo: "" }, candidates, [host("node-y")], p4213())).toEqual({
      "node-a": 16,
      "node-b": 0,
      "node-x": 100,
    });
  });

  it("one constraint on zone, 3 out of 4 nodes are candidates", () => {
    const candidates = [host("node-a", "zone1"), host("node-b", "zone1"), host("node-x", "zone2")];
    expect(scores([soft(1, "zone")], { foo: "" }, candidates, [host("node-y", "zone2")], p4213())).toEqual({
      "node-a": 75,
      "node-b": 75,
      "node-x": 100,
    });
  });

  it("two constraints on zone and node, 2 out of 4 nodes are candidates", () => {
    const placed = spread(...rep("a:foo", 2), "b:foo", ...rep("x:foo", 2), ...rep("y:foo", 4));
    const candidates = [host("node-a", "zone1"), host("node-x", "zone2")];
    const failed = [host("node-b", "zone1"), host("node-y", "zone2")];
    expect(scores([soft(1, "zone"), soft(1, HOST)], { foo: "" }, candidates, failed, placed)).toEqual({
      "node-a": 100,
      "node-x": 63,
    });
  });

  const zoned = () => [
    host("node-a", "zone1"),
    host("node-b", "zone1"),
    host("node-x", "zone2"),
    host("node-y", "zone2"),
  ];

  it("two constraints on zone and node, with different labelSelectors", () => {
    const placed = spread("a:foo", "b:foo,bar", "y:foo", "y:bar");
    expect(
      scores([soft(1, "zone"), soft(1, HOST, "bar")], { foo: "", bar: "" }, zoned(), [], placed),
    ).toEqual({
      "node-a": 60,
      "node-b": 20,
      "node-x": 100,
      "node-y": 60,
    });
  });

  it("two constraints on zone and node, with different labelSelectors, some nodes have 0 pods", () => {
    const placed = spread("b:bar", "x:foo", "y:foo,bar");
    expect(
      scores([soft(1, "zone"), soft(1, HOST, "bar")], { foo: "", bar: "" }, zoned(), [], placed),
    ).toEqual({
      "node-a": 100,
      "node-b": 60,
      "node-x": 40,
      "node-y": 0,
    });
  });

  it("skips a pod without ScheduleAnyway constraints", () => {
    const snapshot = buildSnapshot(abcd().map((n) => ({ node: n })));
    const pod: Pod = { metadata: { name: "p" }, spec: { containers: [] } };
    const ctx = {
      snapshot,
      pod: compilePod(pod, DEFAULT_SCHEDULER_CONFIG),
      config: DEFAULT_SCHEDULER_CONFIG,
      now: 0,
    };
    expect(podTopologySpreadScore.scoreAll(Int32Array.of(0, 1), 2, new Float64Array(2), ctx)).toBe(false);
  });
});
