// Pods we just placed but the cluster (or the agent's telemetry) does not show yet, like
// kube-scheduler's assumed pods in its cache: they count on their node at once so a burst of
// decisions spreads, and they drop out when confirmed, forgotten (binding failed) or expired.
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "./config.ts";
import { SnapshotError } from "./errors.ts";
import type { Pod } from "./k8s-types.ts";
import { addPodToNode, createPodInfo, podKey, removePodFromNode } from "./node-info.ts";
import { predictCpuMilli } from "./scores/live-load.ts";
import type { Snapshot } from "./snapshot.ts";

export interface AssumedPod {
  readonly key: string;
  readonly node: string;
  readonly pod: Pod;
  readonly assumedAt: number;
  readonly expiresAt: number;
}

export interface AssumeCache {
  /** Adds `pod` to `node` in the snapshot and remembers it until confirmed, forgotten or expired. */
  assume(snapshot: Snapshot, pod: Pod, node: string, now: number): AssumedPod;
  /** The cluster now shows the pod bound: stop tracking it (a fresh snapshot will contain it). */
  confirm(key: string): boolean;
  /** Binding failed: take the pod off its node in the snapshot and stop tracking it. */
  forget(snapshot: Snapshot, key: string): boolean;
  /** Drops assumptions older than the TTL from the snapshot; returns their keys. */
  expire(snapshot: Snapshot, now: number): string[];
  /**
   * Carries live assumptions into a freshly built snapshot. A pod the new snapshot already contains
   * was observed bound, which confirms it. Returns how many pods were re-added.
   */
  applyTo(snapshot: Snapshot, now: number): number;
  list(): readonly AssumedPod[];
}

export function createAssumeCache(config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG): AssumeCache {
  const assumed = new Map<string, AssumedPod>();

  const place = (snapshot: Snapshot, entry: AssumedPod): void => {
    const node = snapshot.byName.get(entry.node);
    if (node === undefined)
      throw new SnapshotError(`cannot assume ${entry.key} onto unknown node ${JSON.stringify(entry.node)}`);
    const info = createPodInfo(entry.pod, {
      fallbackKey: entry.key,
      assumedAt: entry.assumedAt,
      expiresAt: entry.expiresAt,
      predictedCpu: predictCpuMilli(entry.pod, config.liveLoad),
    });
    addPodToNode(snapshot, node, info);
  };

  // Only ever remove the snapshot's copy if it is still our assumption, never a pod the cluster reported.
  const unplace = (snapshot: Snapshot, key: string): void => {
    const node = snapshot.podNode.get(key);
    if (node?.assumed.some((p) => p.key === key)) removePodFromNode(snapshot, key);
  };

  const cache: AssumeCache = {
    assume(snapshot, pod, node, now) {
      const key = podKey(pod);
      if (key === undefined) throw new SnapshotError("an assumed pod needs metadata.uid or metadata.name");
      if (assumed.has(key) || snapshot.podNode.has(key))
        throw new SnapshotError(`pod ${key} is already placed`);
      const entry: AssumedPod = { key, node, pod, assumedAt: now, expiresAt: now + config.assume.ttlMs };
      place(snapshot, entry);
      assumed.set(key, entry);
      return entry;
    },
    confirm: (key) => assumed.delete(key),
    forget(snapshot, key) {
      if (!assumed.delete(key)) return false;
      unplace(snapshot, key);
      return true;
    },
    expire(snapshot, now) {
      const gone: string[] = [];
      for (const [key, entry] of assumed) {
        if (entry.expiresAt > now) continue;
        assumed.delete(key);
        unplace(snapshot, key);
        gone.push(key);
      }
      return gone;
    },
    applyTo(snapshot, now) {
      cache.expire(snapshot, now);
      let added = 0;
      for (const [key, entry] of assumed) {
        if (snapshot.podNode.has(key)) {
          assumed.delete(key);
        } else if (!snapshot.byName.has(entry.node)) {
          assumed.delete(key); // the node left the fleet
        } else {
          place(snapshot, entry);
          added++;
        }
      }
      return added;
    },
    list: () => [...assumed.values()],
  };
  return cache;
}
