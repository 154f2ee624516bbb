import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from "./config.ts";
import { DEFAULT_PLUGINS, schedule } from "./engine.ts";
import { filterPlugin } from "./plugins.ts";
import { buildSnapshot, type LiveTelemetry, type NodeInput } from "./snapshot.ts";

const config = DEFAULT_SCHEDULER_CONFIG;
const live = (o: Partial<LiveTelemetry> = {}): LiveTelemetry => ({
  online: true,
  ageMs: 500,
  intervalMs: 10_000,
  cpuPercent: 20,
  memoryPercent: 20,
  diskMaxPercent: 20,
  ...o,
});
const small = (name: string, o: Parameters<typeof makeNode>[1] = {}): NodeInput => ({
  node: makeNode(name, { allocatable: capacity("2", "4Gi"), ...o }),
});

describe("schedule: nothing fits", () => {
  it("renders kube-scheduler's FitError, reasons sorted as strings, counts aggregated", () => {
    const nodes = [
      small("node-1", { allocatable: capacity("500m", "4Gi") }),
      small("node-2", { allocatable: capacity("500m", "4Gi") }),
      small("node-3", { unschedulable: true }),
      small("node-4", { taints: [{ key: "edge", value: "true", effect: "NoSchedule" }] }),
      small("node-5", { taints: [{ key: "edge", value: "true", effect: "NoExecute" }] }),
    ];
    const d = schedule(buildSnapshot(nodes), makePod("web", { requests: [{ cpu: "1" }] }), config, 0);
    expect(d.status).toBe("unschedulable");
    expect(d.node).toBeUndefined();
    // Go's sort.Strings puts "1 node(s)…" before "2 Insufficient cpu" before "2 node(s)…".
    expect(d.message).toBe(
      "0/5 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu, 2 node(s) had untolerated taint {edge: true}.",
    );
    expect(d.feasible).toBe(0);
    expect(d.total).toBe(5);
    expect(d.rejections).toEqual([
      { node: "node-1", filter: "NodeResourcesFit", reason: "Insufficient cpu" },
      { node: "node-2", filter: "NodeResourcesFit", reason: "Insufficient cpu" },
      { node: "node-3", filter: "NodeUnschedulable", reason: "node(s) were unschedulable" },
      { node: "node-4", filter: "TaintToleration", reason: "node(s) had untolerated taint {edge: true}" },
      { node: "node-5", filter: "TaintToleration", reason: "node(s) had untolerated taint {edge: true}" },
    ]);
  });

  it("counts a node once per reason when it lacks several resources", () => {
    const d = schedule(
      buildSnapshot([small("n1")]),
      makePod("big", { requests: [{ cpu: "3", memory: "5Gi" }] }),
      config,
      0,
    );
    expect(d.message).toBe("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
    expect(d.rejections).toEqual([
      { node: "n1", filter: "NodeResourcesFit", reason: "Insufficient cpu, Insufficient memory" },
    ]);
  });

  it("sorts counts as strings, like Go ('10 …' before '2 …')", () => {
    const nodes = [
      ...Array.from({ length: 10 }, (_, i) => small(`a${i}`, { unschedulable: true })),
      small("b1", { allocatable: capacity("1m", "4Gi") }),
      small("b2", { allocatable: capacity("1m", "4Gi") }),
    ];
    const d = schedule(buildSnapshot(nodes), makePod("p", { requests: [{ cpu: "1" }] }), config, 0);
    expect(d.message).toBe("0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.");
  });

  it("says so when there are no nodes", () => {
    const d = schedule(buildSnapshot([]), makePod("p"), config, 0);
    expect(d).toMatchObject({
      status: "unschedulable",
      message: "no nodes available to schedule pods",
      feasible: 0,
      total: 0,
    });
  });

  it("reports nodes outside a matchFields node-name set like the NodeAffinity PreFilter does", () => {
    const pod = makePod("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n2"] }] }],
          },
        },
      },
    });
    const d = schedule(buildSnapshot([small("n1"), small("n2", { unschedulable: true })]), pod, config, 0);
    expect(d.message).toBe(
      "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) were unschedulable.",
    );
  });

  it("fails at PreFilter when the terms pin disjoint node names", () => {
    const pin = (name: string) => ({
      matchFields: [
        { key: "metadata.name", operator: "In", values: [name] },
        { key: "metadata.name", operator: "In", values: ["other"] },
      ],
    });
    const pod = makePod("p", {
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [pin("n1")] } },
      },
    });
    const d = schedule(buildSnapshot([small("n1"), small("n2")]), pod, config, 0);
    expect(d.message).toBe("0/2 nodes are available: pod affinity terms conflict.");
    expect(d.rejections).toHaveLength(2);
  });

  it("explains in kube-scheduler's words first, then with live signals", () => {
    const nodes: NodeInput[] = [
      { ...small("cordoned-and-offline", { unschedulable: true }), live: live({ online: false }) },
      { ...small("offline"), live: live({ online: false }) },
      { ...small("stale"), live: live({ ageMs: 60_000 }) },
      { ...small("hot"), live: live({ cpuPercent: 99 }) },
      small("not-ready", { ready: "False" }),
    ];
    const d = schedule(buildSnapshot(nodes), makePod("p", { requests: [{ cpu: "100m" }] }), config, 0);
    expect(d.rejections.map((r) => `${r.node}:${r.filter}`)).toEqual([
      "cordoned-and-offline:NodeUnschedulable",
      "offline:AgentTelemetry",
      "stale:AgentTelemetry",
      "hot:LivePressure",
      "not-ready:TaintToleration",
    ]);
    expect(d.message).toBe(
      "0/5 nodes are available: 1 node(s) had an offline agent, 1 node(s) had cpu pressure, 1 node(s) had stale agent telemetry, " +
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.",
    );
  });
});

describe("schedule: a node fits", () => {
  it("returns the node, its per-plugin scores, the runner-up and a short reason", () => {
    const nodes: NodeInput[] = [
      {
        node: makeNode("node-1", { allocatable: capacity("4", "8Gi") }),
        pods: [makePod("old", { requests: [{ cpu: "2", memory: "4Gi" }] })],
      },
      { node: makeNode("node-2", { allocatable: capacity("4", "8Gi") }) },
    ];
    const d = schedule(
      buildSnapshot(nodes),
      makePod("web", { requests: [{ cpu: "1", memory: "2Gi" }] }),
      config,
      0,
    );
    // node-2: cpu (4000-1000)/4000 → 75, memory 75 → least-allocated 75; balanced 100; taint 100; live-load neutral 50.
    // node-1: cpu (4000-3000)/4000 → 25, memory 25 → 25; balanced 100; taint 100; neutral 50.
    expect(d.status).toBe("scheduled");
    expect(d.node).toBe("node-2");
    expect(d.scores).toEqual([
      { plugin: "least-allocated", score: 75, weight: 1 },
      { plugin: "balanced-allocation", score: 100, weight: 1 },
      { plugin: "taint-toleration", score: 100, weight: 3 },
      { plugin: "live-load", score: 50, weight: 2 },
    ]);
    // (75 + 100 + 300 + 100) / 7 = 82.14; node-1 (25 + 100 + 300 + 100) / 7 = 75
    expect(d.score).toBe(82.14);
    expect(d.runnerUp).toEqual({
      node: "node-1",
      score: 75,
      scores: [
        { plugin: "least-allocated", score: 25, weight: 1 },
        { plugin: "balanced-allocation", score: 100, weight: 1 },
        { plugin: "taint-toleration", score: 100, weight: 3 },
        { plugin: "live-load", score: 50, weight: 2 },
      ],
    });
    expect(d.message).toBe(
      "node-2: score 82.14 (least-allocated 75×1, balanced-allocation 100×1, taint-toleration 100×3, live-load 50×2); runner-up node-1 75",
    );
    expect(d.feasible).toBe(2);
    expect(d.total).toBe(2);
    expect(d.rejections).toEqual([]);
  });

  it("breaks ties by fewer pods, then by node name", () => {
    const twin = (name: string, pods = 0): NodeInput => ({
      node: makeNode(name, { allocatable: capacity("4", "8Gi") }),
      pods: Array.from({ length: pods }, (_, i) => makePod(`${name}-${i}`)),
    });
    const p = makePod("p");
    const byName = schedule(buildSnapshot([twin("b"), twin("a"), twin("c")]), p, config, 0);
    expect(byName.node).toBe("a");
    expect(byName.runnerUp?.node).toBe("b");
    expect(byName.message).toContain("(tie broken by node name)");
    const byPods = schedule(buildSnapshot([twin("a", 2), twin("b", 1)]), p, config, 0);
    expect(byPods.node).toBe("b");
    expect(byPods.message).toContain("(tie broken by fewer pods)");
  });

  it("avoids a busy node that Kubernetes alone could not tell apart", () => {
    const nodes: NodeInput[] = [
      { node: makeNode("busy", { allocatable: capacity("4", "8Gi") }), live: live({ cpuPercent: 85 }) },
      { node: makeNode("calm", { allocatable: capacity("4", "8Gi") }), live: live({ cpuPercent: 15 }) },
    ];
    const d = schedule(buildSnapshot(nodes), makePod("p", { requests: [{ cpu: "100m" }] }), config, 0);
    // calm: 15 % + 150m predicted (100m × 1.5) of 4000m = 18.75 % → round(60·18.75/40 + 40) = 68
    expect(d.node).toBe("calm");
    expect(d.scores?.find((s) => s.plugin === "live-load")).toEqual({
      plugin: "live-load",
      score: 68,
      weight: 2,
    });
  });

  it("filters a stale or offline node that Kubernetes still calls Ready, but not a node without an agent", () => {
    const nodes: NodeInput[] = [
      { node: makeNode("stale", { ready: "True" }), live: live({ ageMs: 31_000 }) },
      { node: makeNode("offline", { ready: "True" }), live: live({ online: false }) },
      { node: makeNode("no-agent", { ready: "True" }) },
    ];
    const d = schedule(buildSnapshot(nodes), makePod("p"), config, 0);
    expect(d.node).toBe("no-agent");
    expect(d.feasible).toBe(1);
    const strict = schedule(
      buildSnapshot(nodes),
      makePod("p"),
      resolveSchedulerConfig({ live: { requireTelemetry: true } }),
      0,
    );
    expect(strict.message).toBe(
      "0/3 nodes are available: 1 node(s) had an offline agent, 1 node(s) had no agent telemetry, 1 node(s) had stale agent telemetry.",
    );
  });

  it("honours weights: MostAllocated with only resource scoring packs the fuller node", () => {
    const packing = resolveSchedulerConfig({
      scoringStrategy: "MostAllocated",
      weights: { balancedAllocation: 0, taintToleration: 0, nodeAffinity: 0, spread: 0, liveLoad: 0 },
    });
    const nodes: NodeInput[] = [
      { node: makeNode("empty", { allocatable: capacity("4", "8Gi") }) },
      {
        node: makeNode("half", { allocatable: capacity("4", "8Gi") }),
        pods: [makePod("x", { requests: [{ cpu: "2", memory: "4Gi" }] })],
      },
    ];
    const d = schedule(
      buildSnapshot(nodes),
      makePod("p", { requests: [{ cpu: "1", memory: "1Gi" }] }),
      packing,
      0,
    );
    expect(d.node).toBe("half");
    expect(d.scores).toEqual([{ plugin: "most-allocated", score: 68, weight: 1 }]);
    expect(d.message).toBe("half: score 68 (most-allocated 68×1); runner-up empty 18");
  });

  it("lets preferred affinity and PreferNoSchedule taints steer the choice", () => {
    const nodes: NodeInput[] = [
      {
        node: makeNode("tainted", {
          labels: { zone: "a" },
          taints: [{ key: "spot", value: "true", effect: "PreferNoSchedule" }],
        }),
      },
      { node: makeNode("plain-b", { labels: { zone: "b" } }) },
      { node: makeNode("plain-a", { labels: { zone: "a" } }) },
    ];
    const pod = makePod("p", {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 10,
              preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
            },
          ],
        },
      },
    });
    const d = schedule(buildSnapshot(nodes), pod, config, 0);
    expect(d.node).toBe("plain-a");
    expect(d.scores?.find((s) => s.plugin === "node-affinity")?.score).toBe(100);
  });

  it("rejects a pod with an invalid quantity with a coded error", () => {
    expect(() =>
      schedule(buildSnapshot([small("n")]), makePod("p", { requests: [{ cpu: "1 core" }] }), config, 0),
    ).toThrow(expect.objectContaining({ code: "K3SF_ERR_QUANTITY" }));
  });
});

describe("schedule with injected plugins", () => {
  it("runs a custom filter after the defaults and reports it by name", () => {
    const maintenance = filterPlugin("Maintenance", (node) =>
      node.labels.get("maintenance") === "true" ? "node(s) were in maintenance" : null,
    );
    const plugins = { filters: [...DEFAULT_PLUGINS.filters, maintenance], scores: DEFAULT_PLUGINS.scores };
    const nodes = [small("a", { labels: { maintenance: "true" } }), small("b", { unschedulable: true })];
    const d = schedule(buildSnapshot(nodes), makePod("p"), config, 0, plugins);
    expect(d.rejections).toEqual([
      { node: "a", filter: "Maintenance", reason: "node(s) were in maintenance" },
      { node: "b", filter: "NodeUnschedulable", reason: "node(s) were unschedulable" },
    ]);
    expect(d.message).toBe(
      "0/2 nodes are available: 1 node(s) were in maintenance, 1 node(s) were unschedulable.",
    );
  });
});
