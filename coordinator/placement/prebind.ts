// VolumeBinding's PreBind, in the one bind step (place.ts bindPod) both decision paths share: before the
// Binding, the volumes chosen on the decision's snapshot are bound to their claims and the claims left
// to provision are given the chosen node. Any failure (a claim or volume changed since: 409; no
// permission; the node no longer fits the claims) leaves the pod unbound, with the reason, to be decided
// again, as kube-scheduler does. Unlike kube-scheduler, the pod is bound right after these writes,
// without waiting for the volume to be provisioned and the claim bound (the kubelet waits for it).

import { planVolumes } from "../scheduler/filters/volume-binding.ts";
import type { Pod } from "../scheduler/k8s-types.ts";
import type { Snapshot } from "../scheduler/snapshot.ts";
import { KubeRequestError } from "./errors.ts";
import type { KubeActions } from "./kube.ts";
import { kubeError } from "./kube-error.ts";

/** The operation of a PreBind failure (KubeRequestError.operation), in kube-scheduler's words. */
export const PREBIND = 'running PreBind plugin "VolumeBinding"';

const refused = (message: string): KubeRequestError => new KubeRequestError(PREBIND, { message });

/** Writes what binding `pod` to `node` needs; undefined when done (or nothing was needed). */
export async function preBindVolumes(
  snapshot: Snapshot | undefined,
  kube: KubeActions,
  pod: Pod,
  node: string,
): Promise<KubeRequestError | undefined> {
  if ((pod.spec?.volumes?.length ?? 0) === 0 || snapshot === undefined) return undefined;
  const plan = planVolumes(snapshot, pod, node);
  if (plan === undefined) return undefined;
  if (plan.reasons.length > 0)
    return refused(`node ${node} no longer fits the pod's claims: ${plan.reasons.join(", ")}`);
  try {
    for (const { pv, claim } of plan.bindings) {
      if (kube.bindVolume === undefined) return refused("binding pre-provisioned volumes is not available");
      await kube.bindVolume(pv, claim);
    }
    for (const claim of plan.provisions) {
      if (claim.metadata?.annotations?.["volume.kubernetes.io/selected-node"] === node) continue;
      if (kube.selectNode === undefined) return refused("annotating claims is not available");
      await kube.selectNode(claim, node);
    }
  } catch (err) {
    const e = kubeError(PREBIND, err);
    return new KubeRequestError(
      PREBIND,
      { status: e.status, reason: e.reason, message: e.message },
      { cause: err },
    );
  }
  return undefined;
}
