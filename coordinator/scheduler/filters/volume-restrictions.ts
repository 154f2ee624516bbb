// kube-scheduler VolumeRestrictions, ReadWriteOncePod half (pkg/scheduler/framework/plugins/volumerestrictions):
// PreFilter reads the pod's persistentVolumeClaim volumes (a missing claim makes the pod unschedulable) and
// counts the pods anywhere in the snapshot (bound or assumed) that use one of its ReadWriteOncePod claims;
// Filter then rejects every node while that count is above zero. The disk-conflict half (the same GCE PD,
// AWS EBS, RBD or iSCSI volume on one node) is not implemented: unsupported.ts refuses those sources.
import type { Pod } from "../k8s-types.ts";
import { podKey } from "../node-info.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import type { Snapshot } from "../snapshot.ts";
import { claimNotFound } from "./volume-binding.ts";
import { EMPTY_STORAGE, READ_WRITE_ONCE_POD } from "./volume-types.ts";

export const VOLUME_RESTRICTIONS = "VolumeRestrictions";
export const ERR_REASON_RWOP_CONFLICT =
  "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/** The PreFilter's verdict: a reason that rejects every node, or the Filter's answer for every node (null: passes). */
export type VolumeRestrictionsPrepared =
  | { readonly reason: string; readonly conflict?: undefined }
  | { readonly reason?: undefined; readonly conflict: string | null };

const PASS: VolumeRestrictionsPrepared = Object.freeze({ conflict: null });

export function prepareVolumeRestrictionsFor(pod: Pod, snapshot: Snapshot): VolumeRestrictionsPrepared {
  const volumes = pod.spec?.volumes;
  if (volumes === undefined || volumes.length === 0) return PASS;
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
  if (rwop.size === 0) return PASS;
  const self = podKey(pod);
  for (const node of snapshot.nodes) {
    for (const other of node.pods) {
      if (other.key === self || other.claims.length === 0) continue;
      if (other.claims.some((c) => rwop.has(c))) return { conflict: ERR_REASON_RWOP_CONFLICT };
    }
  }
  return PASS;
}

export const prepareVolumeRestrictions = (ctx: PluginContext): VolumeRestrictionsPrepared =>
  prepareVolumeRestrictionsFor(ctx.pod.pod, ctx.snapshot);

/** The state is the one reason every node gets (PreFilter's or the ReadWriteOncePod conflict); null: Skip. */
export const volumeRestrictions = defineFilter<string>({
  name: VOLUME_RESTRICTIONS,
  prepare(ctx) {
    const prepared = prepareVolumeRestrictions(ctx);
    return prepared.reason ?? prepared.conflict;
  },
  at: (reason) => reason,
});
