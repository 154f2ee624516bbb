// The volume plugins' PreFilter verdicts, in kube-scheduler's PreFilter order (VolumeRestrictions,
// VolumeBinding, VolumeZone): the first that rejects the pod outright names the plugin and its reason, which then
// applies to every node (FitError with the PreFilter's message).
import type { Pod } from "../k8s-types.ts";
import type { Snapshot } from "../snapshot.ts";
import { prepareVolumeBindingFor, VOLUME_BINDING } from "./volume-binding.ts";
import { prepareVolumeRestrictionsFor, VOLUME_RESTRICTIONS } from "./volume-restrictions.ts";
import { prepareVolumeZoneFor, VOLUME_ZONE } from "./volume-zone.ts";

export function volumePreFilter(
  pod: Pod,
  snapshot: Snapshot,
): { readonly filter: string; readonly reason: string } | undefined {
  if ((pod.spec?.volumes?.length ?? 0) === 0) return undefined;
  const restrictions = prepareVolumeRestrictionsFor(pod, snapshot);
  if (restrictions.reason !== undefined) return { filter: VOLUME_RESTRICTIONS, reason: restrictions.reason };
  const binding = prepareVolumeBindingFor(pod, snapshot);
  if (binding.reason !== undefined) return { filter: VOLUME_BINDING, reason: binding.reason };
  const zone = prepareVolumeZoneFor(pod, snapshot);
  if (zone.reason !== undefined) return { filter: VOLUME_ZONE, reason: zone.reason };
  return undefined;
}
