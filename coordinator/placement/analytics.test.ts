import { describe, expect, it } from "vitest";
import { createAnalytics, type NewRecord, percentile } from "./analytics.ts";

const base: NewRecord = {
  at: 0,
  source: "mqtt",
  pod: "default/a",
  requestId: "r",
  status: "scheduled",
  node: "node-1",
  score: 80,
  scores: [],
  reasons: [],
  latencyMs: 10,
  advisory: false,
  dryRun: false,
};

describe("percentile (nearest rank)", () => {
  it.each([
    [[], 0.5, 0],
    [[7], 0.99, 7],
    [[1, 2, 3, 4], 0.5, 2],
    [Array.from({ length: 100 }, (_, i) => i + 1), 0.99, 99],
    [Array.from({ length: 1000 }, (_, i) => i + 1), 0.99, 990],
  ])("%j p%s = %s", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe("analytics", () => {
  it("summarises placements, reasons, outcomes and latency of scheduled/unschedulable decisions", () => {
    const a = createAnalytics({ window: 100 });
    a.record({ ...base, pod: "default/a", node: "node-1", latencyMs: 4 });
    a.record({ ...base, pod: "default/b", node: "node-2", latencyMs: 8 });
    a.record({ ...base, pod: "default/c", node: "node-1", latencyMs: 6, source: "pod" });
    a.record({ ...base, pod: "default/d", node: "node-1", dryRun: true, latencyMs: 1 });
    a.record({
      ...base,
      status: "unschedulable",
      node: "",
      reasons: ["Insufficient cpu", "Insufficient memory"],
      latencyMs: 2,
    });
    a.record({ ...base, status: "unschedulable", node: "", reasons: ["Insufficient cpu"], latencyMs: 3 });
    a.record({ ...base, status: "rejected", node: "", reasons: ["namespace x"], latencyMs: 0.1 });
    a.record({ ...base, status: "error", node: "", reasons: ["HTTP 500"], latencyMs: 100 });
    expect(a.podObserved("default/a", "node-1", "Pending")).toBeUndefined();
    expect(a.podObserved("default/b", "node-9", "Running")).toBeUndefined(); // not where we put it
    expect(a.podObserved("default/a", "node-1", "Running")?.pod).toBe("default/a");
    expect(a.podObserved("default/a", "node-1", "Running")).toBeUndefined(); // counted once
    const s = a.summary();
    expect(s).toMatchObject({
      decisions: 8n,
      scheduled: 4n,
      unschedulable: 2n,
      rejected: 1n,
      errors: 1n,
      reachedRunning: 1n,
      placementsPerNode: { "node-1": 2n, "node-2": 1n },
      unschedulableReasons: { "Insufficient cpu": 2n, "Insufficient memory": 1n },
    });
    // Latency over the 6 engine decisions: 1 2 3 4 6 8.
    expect(s.latencyP50Ms).toBe(3);
    expect(s.latencyP99Ms).toBe(8);
  });

  it("keeps a bounded window and restores records from the store", () => {
    const a = createAnalytics({ window: 100 });
    for (let i = 0; i < 250; i++) a.record({ ...base, pod: `default/p${i}` });
    expect(a.records()).toHaveLength(100);
    expect(a.summary().decisions).toBe(100n);
    expect(a.podObserved("default/p0", "node-1", "Running")).toBeUndefined(); // left the window
    const restored = createAnalytics({ window: 100 });
    restored.load(a.records());
    expect(restored.record({ ...base }).id).toBe(251);
    expect(restored.summary().decisions).toBe(100n);
  });

  it("caps the distinct reasons", () => {
    const a = createAnalytics({ window: 1000 });
    for (let i = 0; i < 40; i++) a.record({ ...base, status: "unschedulable", reasons: [`reason ${i}`] });
    const reasons = a.summary().unschedulableReasons;
    expect(Object.keys(reasons)).toHaveLength(33);
    expect(reasons.other).toBe(8n);
  });
});
