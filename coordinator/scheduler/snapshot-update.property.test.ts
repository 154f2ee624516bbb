// A snapshot kept current event by event (snapshot-update.ts, live-refresh.ts) must be the snapshot a
// full build of the same cluster gives: random fleets, random sequences of pod, node and telemetry
// events, with decisions in between (so the lazily built spread and affinity indexes exist and have to
// be kept current too).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeArb, podArb } from "../../test/support/scheduler-arbitraries.ts";
import { LIVE, META, RES } from "./columns.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "./config.ts";
import { schedule } from "./engine.ts";
import type { Node, Pod } from "./k8s-types.ts";
import { setLive } from "./live-refresh.ts";
import { buildSnapshot, type LiveTelemetry, labelColumn, type NodeInput, type Snapshot } from "./snapshot.ts";
import { applyPod, nodeSignature, podPlacement, replaceNode } from "./snapshot-update.ts";

const liveArb = fc.option(
  fc.record({
    online: fc.boolean(),
    ageMs: fc.integer({ min: 0, max: 40_000 }),
    intervalMs: fc.constant(10_000),
    cpuPercent: fc.double({ min: 0, max: 100, noNaN: true }),
    memoryPercent: fc.double({ min: 0, max: 100, noNaN: true }),
    diskMaxPercent: fc.double({ min: 0, max: 100, noNaN: true }),
  }),
  { nil: undefined },
);

const MAX_NODES = 6;
const eventArb = fc.oneof(
  fc.record({
    kind: fc.constant("pod" as const),
    pod: podArb("event"),
    key: fc.nat(),
    node: fc.integer({ min: -1, max: MAX_NODES - 1 }),
  }),
  fc.record({
    kind: fc.constantFrom("finish" as const, "terminate" as const, "delete" as const),
    key: fc.nat(),
  }),
  fc
    .nat({ max: MAX_NODES - 1 })
    .chain((i) => fc.record({ kind: fc.constant("node" as const), node: fc.constant(i), input: nodeArb(i) })),
  fc.record({ kind: fc.constant("live" as const), node: fc.nat({ max: MAX_NODES - 1 }), live: liveArb }),
  fc.record({ kind: fc.constant("decide" as const), pod: podArb("incoming") }),
);

const fleetArb = fc
  .integer({ min: 1, max: MAX_NODES })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i))));

/** The cluster as the informers would show it. */
interface Model {
  readonly nodes: Node[];
  readonly live: Array<LiveTelemetry | undefined>;
  readonly pods: Map<string, Pod>;
}

const keyOf = (pod: Pod): string => `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name}`;

function modelOf(fleet: readonly NodeInput[]): Model {
  const pods = new Map<string, Pod>();
  for (const { node, pods: running } of fleet)
    for (const pod of running ?? []) {
      const bound = { ...pod, spec: { ...pod.spec, nodeName: node.metadata.name } };
      pods.set(keyOf(bound), bound);
    }
  return { nodes: fleet.map((n) => n.node), live: fleet.map((n) => n.live), pods };
}

function rebuild(model: Model): Snapshot {
  const all = [...model.pods.values()];
  return buildSnapshot(
    model.nodes.map((node, i) => {
      const live = model.live[i];
      return {
        node,
        pods: all.filter((p) => podPlacement(p) === node.metadata.name),
        ...(live === undefined ? {} : { live }),
      };
    }),
  );
}

const sortedEntries = <V>(m: ReadonlyMap<string, V>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

/** Everything a decision can read, per node, independent of the order pods were added in. */
function view(s: Snapshot) {
  const c = s.columns;
  return s.nodes.map((n, i) => ({
    index: n.index,
    name: n.name,
    byName: s.byName.get(n.name) === n,
    labels: sortedEntries(n.labels),
    unschedulable: n.unschedulable,
    hardTaints: n.hardTaints,
    softTaints: n.softTaints,
    allowedPods: n.allowedPods,
    alloc: [n.allocCpu, n.allocMemory, n.allocEphemeral, n.capacityCpu, sortedEntries(n.allocScalars)],
    live: n.live,
    requested: [n.reqCpu, n.reqMemory, n.reqEphemeral, n.nonZeroCpu, n.nonZeroMemory, n.safe, n.exact],
    reqScalars: sortedEntries(n.reqScalars),
    pods: n.pods.map((p) => p.key).sort(),
    podNode: n.pods.every((p) => s.podNode.get(p.key) === n),
    res: [...c.res.subarray(i * RES, (i + 1) * RES)],
    meta: [...c.meta.subarray(i * META, (i + 1) * META)],
    liveRow: [...c.live.subarray(i * LIVE, (i + 1) * LIVE)],
    firstTaintReason: c.firstTaintReason[i],
    columnName: c.names[i],
    zone: labelValue(s, "zone", i),
    hostname: labelValue(s, "kubernetes.io/hostname", i),
  }));
}

function labelValue(s: Snapshot, key: string, i: number): string | undefined {
  const column = labelColumn(s, key);
  const id = column.ids[i] as number;
  return [...column.valueIds].find(([, v]) => v === id)?.[0];
}

describe("incremental snapshot updates", () => {
  it("a snapshot kept current by events equals one built from scratch, and decides the same", () => {
    fc.assert(
      fc.property(fleetArb, fc.array(eventArb, { maxLength: 30 }), podArb("last"), (fleet, events, last) => {
        const model = modelOf(fleet);
        const s = buildSnapshot(fleet);
        for (const e of events) {
          const keys = [...model.pods.keys()];
          if (e.kind === "pod") {
            const name = `event-${e.key % 8}`;
            const node = model.nodes[e.node];
            const pod: Pod = {
              ...e.pod,
              metadata: { ...e.pod.metadata, name },
              spec: { ...e.pod.spec, ...(node ? { nodeName: node.metadata.name } : {}) },
            };
            model.pods.set(keyOf(pod), pod);
            applyPod(s, pod, false);
          } else if (e.kind === "node") {
            if (e.node >= model.nodes.length) continue;
            model.nodes[e.node] = e.input.node;
            replaceNode(s, e.input.node);
          } else if (e.kind === "live") {
            const node = s.nodes[e.node];
            if (node === undefined) continue;
            model.live[e.node] = e.live;
            setLive(s, node, e.live, 0);
          } else if (e.kind === "decide") {
            expect(schedule(s, e.pod, DEFAULT_SCHEDULER_CONFIG, 0)).toEqual(
              schedule(rebuild(model), e.pod, DEFAULT_SCHEDULER_CONFIG, 0),
            );
          } else if (keys.length > 0) {
            const key = keys[e.key % keys.length] as string;
            const pod = model.pods.get(key) as Pod;
            if (e.kind === "delete") {
              model.pods.delete(key);
              applyPod(s, pod, true);
              continue;
            }
            const changed: Pod =
              e.kind === "finish"
                ? { ...pod, status: { phase: "Succeeded" } }
                : { ...pod, metadata: { ...pod.metadata, deletionTimestamp: "2026-12-07T00:00:00Z" } };
            model.pods.set(key, changed);
            applyPod(s, changed, false);
          }
        }
        const fresh = rebuild(model);
        expect(view(s)).toEqual(view(fresh));
        expect(schedule(s, last, DEFAULT_SCHEDULER_CONFIG, 0)).toEqual(
          schedule(fresh, last, DEFAULT_SCHEDULER_CONFIG, 0),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("a node update that changes nothing the scheduler reads has the same signature", () => {
    const node: Node = {
      metadata: { name: "a", labels: { zone: "z1" } },
      spec: { taints: [] },
      status: {
        allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
        conditions: [{ type: "Ready", status: "True" }],
      },
    };
    const heartbeat = {
      ...node,
      status: { ...node.status, conditions: [{ type: "Ready", status: "True" }] },
    } as Node;
    expect(nodeSignature(heartbeat)).toBe(nodeSignature(node));
    const notReady = {
      ...node,
      status: { ...node.status, conditions: [{ type: "Ready", status: "False" }] },
    };
    expect(nodeSignature(notReady)).not.toBe(nodeSignature(node));
    const relabelled = { ...node, metadata: { name: "a", labels: { zone: "z2" } } };
    expect(nodeSignature(relabelled)).not.toBe(nodeSignature(node));
  });

  it("refuses to replace a node the snapshot does not have", () => {
    const s = buildSnapshot([]);
    expect(() => replaceNode(s, { metadata: { name: "ghost" } })).toThrow(/not in the snapshot/);
  });
});
