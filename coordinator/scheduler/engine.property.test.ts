// Properties of whole decisions over random fleets, checked against a naive re-computation that runs
// the same plugins node by node without the engine's buffers, fast paths and tie-breaking.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../test/support/scheduler.ts";
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "./config.ts";
import { DEFAULT_PLUGINS, type Decision, schedule } from "./engine.ts";
import type { Pod, Taint, Toleration } from "./k8s-types.ts";
import { compilePod } from "./pod.ts";
import { buildSnapshot, type NodeInput, type Snapshot } from "./snapshot.ts";

const TAINTS: Taint[] = [
  { key: "edge", value: "true", effect: "NoSchedule" },
  { key: "gpu", value: "a100", effect: "NoExecute" },
  { key: "spot", value: "true", effect: "PreferNoSchedule" },
];
const TOLERATIONS: Toleration[] = [
  { key: "edge", operator: "Exists" },
  { key: "gpu", operator: "Equal", value: "a100", effect: "NoExecute" },
  { key: "spot", operator: "Exists", effect: "PreferNoSchedule" },
];

const podArb = (name: string) =>
  fc
    .record({
      cpu: fc.integer({ min: 0, max: 3000 }),
      memMi: fc.integer({ min: 0, max: 4096 }),
      app: fc.constantFrom("web", "db", undefined),
      tolerations: fc.subarray(TOLERATIONS),
      zone: fc.constantFrom("a", "b", undefined),
      preferZone: fc.constantFrom("a", "c", undefined),
      noRequests: fc.boolean(),
      // InterPodAffinity, NodePorts and PodTopologySpread, on incoming and running pods alike.
      antiApp: fc.constantFrom("web", "db", undefined),
      preferAntiApp: fc.constantFrom("web", undefined),
      hostPort: fc.constantFrom(80, undefined),
      zoneSpread: fc.constantFrom("DoNotSchedule", "ScheduleAnyway", undefined),
    })
    .map((r) =>
      withPlacementConstraints(
        r,
        makePod(name, {
          labels: r.app ? { app: r.app } : {},
          requests: r.noRequests ? [] : [{ cpu: `${r.cpu}m`, memory: `${r.memMi}Mi` }],
          tolerations: r.tolerations,
          ...(r.zone ? { nodeSelector: { zone: r.zone } } : {}),
          ...(r.preferZone
            ? {
                affinity: {
                  nodeAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      {
                        weight: 5,
                        preference: {
                          matchExpressions: [{ key: "zone", operator: "In", values: [r.preferZone] }],
                        },
                      },
                    ],
                  },
                },
              }
            : {}),
        }),
      ),
    );

interface Constraints {
  readonly app: string | undefined;
  readonly antiApp: string | undefined;
  readonly preferAntiApp: string | undefined;
  readonly hostPort: number | undefined;
  readonly zoneSpread: string | undefined;
}

function withPlacementConstraints(r: Constraints, pod: Pod): Pod {
  const spec = pod.spec ?? {};
  const containers = spec.containers?.length ? spec.containers : [{ name: "c" }];
  const selector = (app: string) => ({ matchLabels: { app } });
  return {
    ...pod,
    spec: {
      ...spec,
      containers: containers.map((c, i) =>
        i === 0 && r.hostPort ? { ...c, ports: [{ containerPort: r.hostPort, hostPort: r.hostPort }] } : c,
      ),
      affinity: {
        ...spec.affinity,
        podAntiAffinity: {
          ...(r.antiApp
            ? {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: selector(r.antiApp), topologyKey: "kubernetes.io/hostname" },
                ],
              }
            : {}),
          ...(r.preferAntiApp
            ? {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 10,
                    podAffinityTerm: { labelSelector: selector(r.preferAntiApp), topologyKey: "zone" },
                  },
                ],
              }
            : {}),
        },
      },
      ...(r.zoneSpread && r.app
        ? {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "zone",
                whenUnsatisfiable: r.zoneSpread,
                labelSelector: selector(r.app),
              },
            ],
          }
        : {}),
    },
  };
}

const nodeArb = (i: number) =>
  fc
    .record({
      cpu: fc.integer({ min: 500, max: 8000 }),
      memGi: fc.integer({ min: 1, max: 16 }),
      pods: fc.integer({ min: 1, max: 8 }),
      zone: fc.constantFrom("a", "b", "c"),
      taints: fc.subarray(TAINTS),
      unschedulable: fc.boolean(),
      ready: fc.constantFrom(undefined, "True", "False"),
      live: fc.option(
        fc.record({
          online: fc.boolean(),
          ageMs: fc.integer({ min: 0, max: 40_000 }),
          cpuPercent: fc.double({ min: 0, max: 100, noNaN: true }),
          memoryPercent: fc.double({ min: 0, max: 100, noNaN: true }),
          diskMaxPercent: fc.double({ min: 0, max: 100, noNaN: true }),
        }),
      ),
      running: fc.array(podArb("x"), { maxLength: 4 }),
    })
    .map(
      (r): NodeInput => ({
        node: makeNode(`node-${i}`, {
          allocatable: { cpu: `${r.cpu}m`, memory: `${r.memGi}Gi`, pods: String(r.pods) },
          labels: { zone: r.zone },
          taints: r.taints,
          unschedulable: r.unschedulable,
          ...(r.ready ? { ready: r.ready as "True" | "False" } : {}),
        }),
        pods: r.running.map((p, j) => ({ ...p, metadata: { ...p.metadata, name: `run-${i}-${j}` } })),
        ...(r.live ? { live: { ...r.live, intervalMs: 10_000 } } : {}),
      }),
    );

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
