// kube-scheduler VolumeRestrictions (pkg/scheduler/framework/plugins/volumerestrictions). PreFilter reads the
// pod's persistentVolumeClaim volumes (a missing claim makes the pod unschedulable) and counts the pods
// anywhere in the snapshot (bound or assumed) that use one of its ReadWriteOncePod claims. Filter, per node:
// first the disk conflicts (volume-disks.ts) against the pods on the node, then, while that count is above
// zero, the ReadWriteOncePod conflict on every node.
import type { Pod } from "../k8s-types.ts";
import { podKey } from "../node-info.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import type { NodeInfo, Snapshot } from "../snapshot.ts";
import { claimNotFound } from "./volume-binding.ts";
import { disksConflict, ERR_REASON_DISK_CONFLICT, podDisks } from "./volume-disks.ts";
import { EMPTY_STORAGE, READ_WRITE_ONCE_POD } from "./volume-types.ts";

export const VOLUME_RESTRICTIONS = "VolumeRestrictions";
export const ERR_REASON_RWOP_CONFLICT =
  "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/** What the Filter checks: the pod's disk volumes against each node's pods, then a conflict for every node. */
export interface VolumeRestrictionsState {
  readonly nodes: readonly NodeInfo[];
  readonly disks: readonly object[];
  readonly conflict: string | null;
}

/** The PreFilter's verdict: a reason that rejects every node, or the Filter's state (null: Skip). */
export type VolumeRestrictionsPrepared =
  | { readonly reason: string; readonly state?: undefined }
  | { readonly reason?: undefined; readonly state: VolumeRestrictionsState | null };

const SKIP: VolumeRestrictionsPrepared = Object.freeze({ state: null });

export function prepareVolumeRestrictionsFor(pod: Pod, snapshot: Snapshot): VolumeRestrictionsPrepared {
  const volumes = pod.spec?.volumes;
  if (volumes === undefined || volumes.length === 0) return SKIP;
  const storage = snapshot.storage ?? EMPTY_STORAGE;
  const ns = pod.metadata?.namespace ?? "default";
  const rwop = new Set<string>();
  for (const v of volumes as ReadonlyArray<{ persistentVolumeClaim?: { claimName?: string } | null }>) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name === undefined) continue;
    const claim = storage.claim(ns, name);
    if (claim === undefined) return { reason: claimNotFound(name) };
    if (claim.spec?.accessModes?.includes(READ_WRITE_ONCE_POD)) rwop.add(`${ns}/${name}`);
  }
  const disks = podDisks(pod);
  const conflict = rwop.size > 0 && claimUsed(snapshot, podKey(pod), rwop) ? ERR_REASON_RWOP_CONFLICT : null;
  if (disks.length === 0 && conflict === null) return SKIP;
  return { state: { nodes: snapshot.nodes, disks, conflict } };
}

/** StorageInfos().IsPVCUsedByPods for any of `claims`, the pod itself left out. */
function claimUsed(snapshot: Snapshot, self: string | undefined, claims: ReadonlySet<string>): boolean {
  for (const node of snapshot.nodes) {
    for (const other of node.pods) {
      if (other.key === self || other.claims.length === 0) continue;
      if (other.claims.some((c) => claims.has(c))) return true;
    }
  }
  return false;
}

export function volumeRestrictionsAt(s: VolumeRestrictionsState, i: number): string | null {
  if (s.disks.length > 0) {
    const pods = (s.nodes[i] as NodeInfo).pods;
    for (let p = 0; p < pods.length; p++) {
      const existing = (pods[p] as NodeInfo["pods"][number]).disks;
      if (existing.length === 0) continue;
      for (const want of s.disks)
        for (const e of existing) if (disksConflict(want, e)) return ERR_REASON_DISK_CONFLICT;
    }
  }
  return s.conflict;
}

export const prepareVolumeRestrictions = (ctx: PluginContext): VolumeRestrictionsPrepared =>
  prepareVolumeRestrictionsFor(ctx.pod.pod, ctx.snapshot);

export const volumeRestrictions = defineFilter<string | VolumeRestrictionsState>({
  name: VOLUME_RESTRICTIONS,
  prepare(ctx) {
    const prepared = prepareVolumeRestrictions(ctx);
    return prepared.reason ?? prepared.state;
  },
  at: (s, i) => (typeof s === "string" ? s : volumeRestrictionsAt(s, i)),
});
