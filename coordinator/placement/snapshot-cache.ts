// The scheduling snapshot, kept between decisions and kept current event by event, like kube-scheduler's
// cache. Building one parses every pod's quantities (68–120 ms at 10,000 nodes), so it is built in full
// only at the first decision, when the node set changes (a node added or deleted, an agent's birth), on
// `invalidate`, or when it is older than `maxAgeMs` (a safety net). Everything else is applied to the
// snapshot in place, touching only the nodes concerned (scheduler/snapshot-update.ts):
//  - a pod added, changed or deleted in the informer cache moves on its node at once;
//  - a node whose scheduling-relevant fields changed gets its row rebuilt; a heartbeat-only update is a no-op;
//  - telemetry or a status from an agent marks its node, whose live signals are read again at the next `get`.
// So a decision sees every event delivered before it started. On top of that, at every `get` a node whose
// sample looks more than an interval old is read again (scheduler/live-refresh.ts), so stale and offline
// are the fleet's own verdicts at `now`. Pods this coordinator placed are already in the snapshot through
// the assume cache: their binding showing up in the informer only confirms them. No I/O.

import type { StorageView } from "../scheduler/filters/volume-types.ts";
import {
  type AssumeCache,
  applyPod,
  type LiveTelemetry,
  type Node,
  type NodeInput,
  nodeSignature,
  podPlacement,
  refreshLive,
  replaceNode,
  type Snapshot,
  setLive,
} from "../scheduler/index.ts";
import type { NodeObject, PodObject } from "./inputs.ts";

export interface SnapshotCacheOptions {
  /** The engine's input now: nodes, their pods, live signals. */
  source: (now: number) => readonly NodeInput[];
  build: (input: { nodes: readonly NodeInput[]; takenAt: number }) => Snapshot;
  assumed: AssumeCache;
  maxAgeMs: number;
  /** The cluster's claims, volumes and storage classes (informer caches), handed to every snapshot. */
  storage?: StorageView;
  /** The agents' live signals now, by node name; read at every `get` for the nodes that need it. */
  live?: (now: number) => (name: string) => LiveTelemetry | undefined;
}

export interface SnapshotCache {
  /**
   * The current snapshot with every change reported so far applied, built first when there is none or
   * it is out of date, with live signals as of `now`; assumed pods are carried into a rebuilt one.
   */
  get(now: number): Snapshot;
  /** The snapshot decisions are being made on (undefined before the first `get`). */
  current(): Snapshot | undefined;
  /** Something the events do not describe changed (an agent's birth, a relist): rebuild before the next decision. */
  invalidate(): void;
  /** A pod changed in the informer cache (which is already updated). */
  podChanged(type: "add" | "update" | "delete", pod: PodObject): void;
  /** A node changed in the informer cache (which is already updated). */
  nodeChanged(type: "add" | "update" | "delete", node: NodeObject): void;
  /** The agent on this node (Kubernetes node name) sent telemetry or a status: read its signals before the next decision. */
  liveChanged(name: string): void;
  /** Full builds so far. */
  readonly rebuilds: number;
  /** Events applied in place so far (pods and nodes moved; live signals re-read on event). */
  readonly updates: number;
}

/** The engine's pod key: metadata.uid, else namespace/name. */
export const podKeyOf = (pod: PodObject): string =>
  pod.metadata?.uid || `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;

export function createSnapshotCache(options: SnapshotCacheOptions): SnapshotCache {
  const { assumed, maxAgeMs } = options;
  let snapshot: Snapshot | undefined;
  let builtAt = Number.NEGATIVE_INFINITY;
  let dirty = true;
  let rebuilds = 0;
  let updates = 0;
  /** nodeSignature of every node in the snapshot, by name: what a node update is compared with. */
  const signatures = new Map<string, string>();
  /** Nodes whose live signals are read again at the next `get`. */
  const liveDirty = new Set<string>();

  /** The snapshot events apply to; undefined while a full build is due anyway (it reads everything). */
  const live = (): Snapshot | undefined => (dirty ? undefined : snapshot);

  const rebuild = (now: number): Snapshot => {
    // Cleared first: changes reported while building are not lost.
    dirty = false;
    liveDirty.clear();
    const nodes = options.source(now);
    const built = options.build({ nodes, takenAt: now });
    signatures.clear();
    for (const input of nodes) signatures.set(input.node.metadata.name, nodeSignature(input.node));
    builtAt = now;
    rebuilds++;
    assumed.applyTo(built, now);
    // Claims, volumes and classes are the informers' live caches, read at decision time, never copied.
    if (options.storage !== undefined) built.storage = options.storage;
    snapshot = built;
    return built;
  };

  return {
    get(now) {
      let s = snapshot;
      if (s === undefined || dirty || now - builtAt >= maxAgeMs) s = rebuild(now);
      if (options.live !== undefined) {
        const liveOf = options.live(now);
        for (const name of liveDirty) {
          const node = s.byName.get(name);
          if (node !== undefined) setLive(s, node, liveOf(name), now);
          updates++;
        }
        liveDirty.clear();
        refreshLive(s, liveOf, now);
      }
      return s;
    },
    current: () => snapshot,
    invalidate() {
      dirty = true;
    },
    podChanged(type, pod) {
      const s = live();
      if (s === undefined) return;
      const key = podKeyOf(pod);
      if (type === "delete") {
        // Ours, not confirmed yet: the assume cache takes it off its node.
        if (assumed.forget(s, key)) return;
      } else {
        const ours = assumed.list().find((a) => a.key === key);
        if (ours !== undefined) {
          const at = podPlacement(pod);
          // Not bound yet: our assumption stands. Our own binding arriving: it already counts there.
          if (at === undefined) return;
          if (at === ours.node) {
            assumed.confirm(key);
            return;
          }
          assumed.forget(s, key); // bound elsewhere: the cluster is right
        }
      }
      try {
        if (applyPod(s, pod, type === "delete").length > 0) updates++;
      } catch {
        dirty = true; // a pod the engine cannot read: the full build reports it as before
      }
    },
    nodeChanged(type, node) {
      const s = live();
      const name = node.metadata?.name ?? "";
      if (s === undefined) return;
      if (type !== "update" || !s.byName.has(name)) {
        dirty = true; // the node set changed: indexes move
        return;
      }
      const signature = nodeSignature(node as Node);
      if (signatures.get(name) === signature) return;
      try {
        replaceNode(s, node as Node);
        signatures.set(name, signature);
        updates++;
      } catch {
        dirty = true;
      }
    },
    liveChanged(name) {
      if (live() !== undefined) liveDirty.add(name);
    },
    get rebuilds() {
      return rebuilds;
    },
    get updates() {
      return updates;
    },
  };
}
