// The scheduling snapshot, kept between decisions. Building one parses every pod's quantities (tens of
// milliseconds for thousands of pods), so it is rebuilt only when something it holds changed: a node, a
// pod bound, unbound, deleted or finished by someone else, an agent's status; or when it is older than
// `maxAgeMs`. The agents' live signals are not left to age with it: at every decision, a node whose
// sample looks more than an interval old is read again (`live`, see scheduler/live-refresh.ts), so stale
// and offline are the fleet's own verdicts on its latest data, whatever the snapshot's age. Pods this
// coordinator placed are already in it through the assume cache: their binding showing up in the
// informer only confirms them. No I/O.

import type { StorageView } from "../scheduler/filters/volume-types.ts";
import {
  type AssumeCache,
  type LiveTelemetry,
  type NodeInput,
  refreshLive,
  type Snapshot,
} from "../scheduler/index.ts";
import { isTerminal, type PodObject } from "./inputs.ts";

export interface SnapshotCacheOptions {
  /** The engine's input now: nodes, their pods, live signals. */
  source: (now: number) => readonly NodeInput[];
  build: (input: { nodes: readonly NodeInput[]; takenAt: number }) => Snapshot;
  assumed: AssumeCache;
  maxAgeMs: number;
  /** The cluster's claims, volumes and storage classes (informer caches), handed to every snapshot. */
  storage?: StorageView;
  /** The agents' live signals now, by node name; read again at every `get` on a reused snapshot. */
  live?: (now: number) => (name: string) => LiveTelemetry | undefined;
}

export interface SnapshotCache {
  /**
   * The current snapshot, rebuilt first when out of date, with live signals as of `now`; assumed pods
   * are carried into a rebuilt one.
   */
  get(now: number): Snapshot;
  /** The snapshot decisions are being made on (undefined before the first `get`). */
  current(): Snapshot | undefined;
  /** Something outside the informer changed (an agent's status): rebuild before the next decision. */
  invalidate(): void;
  /** A pod changed in the informer cache; rebuilds only when the snapshot does not already account for it. */
  podChanged(type: "add" | "update" | "delete", pod: PodObject): void;
  /** Records where the informer's pods are, without marking anything stale (at start, before any event). */
  seed(pods: readonly PodObject[]): void;
  readonly rebuilds: number;
}

/** The engine's pod key: metadata.uid, else namespace/name. */
export const podKeyOf = (pod: PodObject): string =>
  pod.metadata?.uid || `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;

/** Where a pod counts in a snapshot: its node while bound and not finished, else nowhere (""). */
const placement = (pod: PodObject): string => (isTerminal(pod) ? "" : (pod.spec?.nodeName ?? ""));

export function createSnapshotCache(options: SnapshotCacheOptions): SnapshotCache {
  const { assumed, maxAgeMs } = options;
  let snapshot: Snapshot | undefined;
  let builtAt = Number.NEGATIVE_INFINITY;
  let dirty = true;
  let rebuilds = 0;
  const placements = new Map<string, string>();

  return {
    get(now) {
      if (snapshot === undefined || dirty || now - builtAt >= maxAgeMs) {
        // Cleared first: changes reported while building are not lost.
        dirty = false;
        snapshot = options.build({ nodes: options.source(now), takenAt: now });
        builtAt = now;
        rebuilds++;
        assumed.applyTo(snapshot, now);
        if (options.storage !== undefined) snapshot.storage = options.storage;
      }
      if (options.live !== undefined) refreshLive(snapshot, options.live(now), now);
      return snapshot;
    },
    current: () => snapshot,
    invalidate() {
      dirty = true;
    },
    podChanged(type, pod) {
      const key = podKeyOf(pod);
      const before = placements.get(key) ?? "";
      const after = type === "delete" ? "" : placement(pod);
      if (after === "") placements.delete(key);
      else placements.set(key, after);
      if (type === "delete" && snapshot !== undefined && assumed.forget(snapshot, key)) return;
      if (before === after) return;
      // Our own binding arriving: the assumed pod already counts on that node.
      if (before === "" && assumed.list().some((a) => a.key === key && a.node === after)) {
        assumed.confirm(key);
        return;
      }
      dirty = true;
    },
    seed(pods) {
      for (const pod of pods) {
        const at = placement(pod);
        if (at !== "") placements.set(podKeyOf(pod), at);
      }
    },
    get rebuilds() {
      return rebuilds;
    },
  };
}
