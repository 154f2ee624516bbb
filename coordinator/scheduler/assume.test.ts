import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { createAssumeCache } from "./assume.ts";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from "./config.ts";
import { schedule } from "./engine.ts";
import { createScheduler } from "./scheduler.ts";
import { buildSnapshot, type NodeInput } from "./snapshot.ts";

const fleet = (n: number): NodeInput[] =>
  Array.from({ length: n }, (_, i) => ({
    node: makeNode(`node-${i + 1}`, { allocatable: capacity("4", "8Gi") }),
  }));
const replica = (i: number) =>
  makePod(`web-${i}`, { labels: { app: "web" }, requests: [{ cpu: "500m", memory: "512Mi" }] });

describe("assumed pods", () => {
  it("a burst of 10 decisions spreads across 5 identical nodes, 2 each", () => {
    const snapshot = buildSnapshot(fleet(5));
    const cache = createAssumeCache(DEFAULT_SCHEDULER_CONFIG);
    const placed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const d = schedule(snapshot, replica(i), DEFAULT_SCHEDULER_CONFIG, 1_000 + i);
      expect(d.status).toBe("scheduled");
      cache.assume(snapshot, replica(i), d.node as string, 1_000 + i);
      placed.push(d.node as string);
    }
    const perNode = new Map<string, number>();
    for (const n of placed) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    expect([...perNode.entries()].sort()).toEqual([
      ["node-1", 2],
      ["node-2", 2],
      ["node-3", 2],
      ["node-4", 2],
      ["node-5", 2],
    ]);
    expect(cache.list()).toHaveLength(10);
  });

  it("without assuming, the same burst piles onto one node", () => {
    const snapshot = buildSnapshot(fleet(5));
    const nodes = new Set(
      Array.from({ length: 10 }, (_, i) => schedule(snapshot, replica(i), DEFAULT_SCHEDULER_CONFIG, 0).node),
    );
    expect([...nodes]).toEqual(["node-1"]);
  });

  it("counts assumed pods in the node's requests until they expire", () => {
    const config = resolveSchedulerConfig({ assume: { ttlMs: 5_000 } });
    const snapshot = buildSnapshot(fleet(1));
    const cache = createAssumeCache(config);
    const big = makePod("big", { requests: [{ cpu: "3" }] });
    cache.assume(snapshot, big, "node-1", 0);
    expect(snapshot.nodes[0]?.reqCpu).toBe(3000);
    expect(schedule(snapshot, makePod("next", { requests: [{ cpu: "2" }] }), config, 1_000).message).toBe(
      "0/1 nodes are available: 1 Insufficient cpu.",
    );
    expect(cache.expire(snapshot, 4_999)).toEqual([]);
    expect(cache.expire(snapshot, 5_000)).toEqual(["default/big"]);
    expect(snapshot.nodes[0]?.reqCpu).toBe(0);
    expect(schedule(snapshot, makePod("next", { requests: [{ cpu: "2" }] }), config, 5_000).node).toBe(
      "node-1",
    );
  });

  it("forget takes a failed binding back off the node", () => {
    const snapshot = buildSnapshot(fleet(1));
    const cache = createAssumeCache();
    cache.assume(snapshot, replica(0), "node-1", 0);
    expect(snapshot.nodes[0]?.pods).toHaveLength(1);
    expect(cache.forget(snapshot, "default/web-0")).toBe(true);
    expect(snapshot.nodes[0]?.pods).toHaveLength(0);
    expect(snapshot.nodes[0]?.reqMemory).toBe(0);
    expect(cache.forget(snapshot, "default/web-0")).toBe(false);
  });

  it("carries assumptions into a fresh snapshot, and confirms those the cluster now reports", () => {
    const cache = createAssumeCache();
    const first = buildSnapshot(fleet(2));
    cache.assume(first, replica(0), "node-1", 0);
    cache.assume(first, replica(1), "node-2", 0);
    // The informer now shows web-0 bound to node-1, but not yet web-1.
    const fresh = buildSnapshot([
      { node: makeNode("node-1", { allocatable: capacity("4", "8Gi") }), pods: [replica(0)] },
      { node: makeNode("node-2", { allocatable: capacity("4", "8Gi") }) },
    ]);
    expect(cache.applyTo(fresh, 1_000)).toBe(1);
    expect(cache.list().map((a) => a.key)).toEqual(["default/web-1"]);
    expect(fresh.nodes[1]?.assumed.map((p) => p.key)).toEqual(["default/web-1"]);
    expect(fresh.nodes[0]?.assumed).toEqual([]);
    expect(cache.confirm("default/web-1")).toBe(true);
    expect(cache.list()).toEqual([]);
  });

  it("refuses to assume a pod twice or onto an unknown node", () => {
    const snapshot = buildSnapshot(fleet(1));
    const cache = createAssumeCache();
    cache.assume(snapshot, replica(0), "node-1", 0);
    expect(() => cache.assume(snapshot, replica(0), "node-1", 0)).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_SNAPSHOT" }),
    );
    expect(() => cache.assume(snapshot, replica(1), "node-9", 0)).toThrow(/unknown node/);
  });

  it("adds an assumed pod's predicted CPU to telemetry taken before it was placed", () => {
    const node: NodeInput = {
      node: makeNode("n", { allocatable: capacity("1", "1Gi") }),
      live: {
        online: true,
        ageMs: 0,
        intervalMs: 10_000,
        cpuPercent: 0,
        memoryPercent: 0,
        diskMaxPercent: 0,
      },
    };
    const snapshot = buildSnapshot({ nodes: [node], takenAt: 0 });
    const cache = createAssumeCache();
    const probe = () =>
      schedule(snapshot, makePod("probe"), DEFAULT_SCHEDULER_CONFIG, 2_000).scores?.find(
        (s) => s.plugin === "live-load",
      )?.score;
    expect(probe()).toBe(40);
    // 200m request × 1.5 = 300m predicted on a 1000m node → 30 % → round(60·30/40 + 40) = 85
    cache.assume(snapshot, makePod("a", { requests: [{ cpu: "200m" }] }), "n", 1_000);
    expect(probe()).toBe(85);
  });

  it("createScheduler expires, decides and assumes in one call", () => {
    const scheduler = createScheduler({ config: { assume: { ttlMs: 60_000 } } });
    const snapshot = buildSnapshot(fleet(3));
    const nodes = Array.from({ length: 6 }, (_, i) => scheduler.decide(snapshot, replica(i), i).node);
    expect(new Set(nodes).size).toBe(3);
    expect(scheduler.assumed.list()).toHaveLength(6);
    scheduler.decide(snapshot, makePod(undefined), 60_000);
    expect(scheduler.assumed.list()).toHaveLength(6 - 1);
  });
});
