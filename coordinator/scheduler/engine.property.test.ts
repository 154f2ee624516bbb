// Properties of whole decisions over random fleets, checked against a naive re-computation that runs
// the same plugins node by node without the engine's buffers, fast paths and tie-breaking.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makePod } from "../../test/support/scheduler.ts";
import { nodeArb, podArb } from "../../test/support/scheduler-arbitraries.ts";
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "./config.ts";
import { DEFAULT_PLUGINS, type Decision, schedule } from "./engine.ts";
import type { Pod } from "./k8s-types.ts";
import { compilePod } from "./pod.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";

const fleetArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i))));

/** Feasible nodes and weighted sums, computed naively. */
function reference(snapshot: Snapshot, pod: Pod, config: SchedulerConfig, now: number) {
  const compiled = compilePod(pod, config);
  const ctx = { snapshot, pod: compiled, config, now };
  const feasible = snapshot.nodes.filter(
    (n) =>
      (compiled.nodeNames === undefined || compiled.nodeNames.has(n.name)) &&
      DEFAULT_PLUGINS.filters.every((f) => f.check(n, ctx) === null),
  );
  const totals = new Map(feasible.map((n) => [n.name, 0]));
  for (const plugin of DEFAULT_PLUGINS.scores) {
    const weight = plugin.weight(config);
    const raw = new Float64Array(feasible.length);
    if (
      weight === 0 ||
      !plugin.scoreAll(
        Int32Array.from(feasible, (n) => n.index),
        feasible.length,
        raw,
        ctx,
      )
    )
      continue;
    plugin.normalize?.(raw, raw.length);
    feasible.forEach((n, k) => {
      totals.set(n.name, (totals.get(n.name) as number) + (raw[k] as number) * weight);
    });
  }
  return { feasible: feasible.map((n) => n.name), totals };
}

const histogram = (d: Decision): number[] =>
  [...d.message.matchAll(/(?:: |, )(\d+) /g)].map((m) => Number(m[1]));

describe("decision properties", () => {
  it("the chosen node is feasible and no feasible node has a higher weighted score", () => {
    fc.assert(
      fc.property(fleetArb, podArb("incoming"), fc.integer({ min: 0, max: 20_000 }), (fleet, pod, now) => {
        const snapshot = buildSnapshot({ nodes: fleet, takenAt: 0 });
        const d = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, now);
        const ref = reference(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, now);
        expect(d.total).toBe(fleet.length);
        expect(d.feasible).toBe(ref.feasible.length);
        expect(d.rejections.length).toBe(fleet.length - ref.feasible.length);
        for (const r of d.rejections) expect(ref.feasible).not.toContain(r.node);
        if (ref.feasible.length === 0) {
          expect(d.status).toBe("unschedulable");
          return;
        }
        expect(d.status).toBe("scheduled");
        expect(ref.feasible).toContain(d.node);
        const best = Math.max(...ref.totals.values());
        expect(ref.totals.get(d.node as string)).toBe(best);
        if (d.runnerUp) expect(ref.totals.get(d.runnerUp.node) as number).toBeLessThanOrEqual(best);
      }),
      { numRuns: 300 },
    );
  });

  it("the nothing-fits message counts every (node, reason) once, so single-reason counts sum to the node total", () => {
    fc.assert(
      fc.property(fleetArb, podArb("incoming"), (fleet, pod) => {
        const snapshot = buildSnapshot(fleet);
        const d = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, 0);
        if (d.status !== "unschedulable") return;
        const counts = histogram(d);
        const reasons = d.rejections.reduce((sum, r) => sum + r.reason.split(", ").length, 0);
        expect(d.rejections.length).toBe(d.total);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(reasons);
        if (d.rejections.every((r) => !r.reason.includes(", "))) {
          expect(counts.reduce((a, b) => a + b, 0)).toBe(d.total);
        }
      }),
      { numRuns: 300 },
    );
  });

  // A full node lacking cpu says "Too many pods" and "Insufficient cpu" (two counts), as kube-scheduler
  // does; with room for pods every node has exactly one reason.
  it("an oversized single-resource pod on nodes with pod room: counts sum exactly to the node total", () => {
    fc.assert(
      fc.property(fleetArb, (fleet) => {
        const roomy = fleet.map((n) => ({
          ...n,
          node: {
            ...n.node,
            status: { ...n.node.status, allocatable: { ...n.node.status?.allocatable, pods: "110" } },
          },
        }));
        const d = schedule(
          buildSnapshot(roomy),
          makePod("huge", { requests: [{ cpu: "64" }] }),
          DEFAULT_SCHEDULER_CONFIG,
          0,
        );
        expect(d.status).toBe("unschedulable");
        expect(histogram(d).reduce((a, b) => a + b, 0)).toBe(d.total);
      }),
      { numRuns: 100 },
    );
  });

  it("the fused default filters decide exactly like the same plugins run one by one", () => {
    // Plain FilterPlugin objects (no prepare/at): the engine runs them one by one through filterAll.
    const oneByOne = {
      filters: DEFAULT_PLUGINS.filters.map((f) => ({ name: f.name, check: f.check, filterAll: f.filterAll })),
      scores: [...DEFAULT_PLUGINS.scores],
    };
    fc.assert(
      fc.property(fleetArb, podArb("incoming"), fc.integer({ min: 0, max: 20_000 }), (fleet, pod, now) => {
        const snapshot = buildSnapshot({ nodes: fleet, takenAt: 0 });
        expect(schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, now, oneByOne)).toEqual(
          schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, now),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("reusing a snapshot for many decisions gives the same answer as a fresh one", () => {
    fc.assert(
      fc.property(fleetArb, podArb("first"), podArb("second"), (fleet, first, second) => {
        const shared = buildSnapshot(fleet);
        schedule(shared, first, DEFAULT_SCHEDULER_CONFIG, 0);
        expect(schedule(shared, second, DEFAULT_SCHEDULER_CONFIG, 0)).toEqual(
          schedule(buildSnapshot(fleet), second, DEFAULT_SCHEDULER_CONFIG, 0),
        );
      }),
      { numRuns: 200 },
    );
  });
});
