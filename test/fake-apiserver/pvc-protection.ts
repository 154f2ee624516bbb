// StorageObjectInUseProtection as a real cluster has it: admission gives every new claim the
// kubernetes.io/pvc-protection finalizer, so deleting a claim that a pod still uses only marks it
// (deletionTimestamp: "is being deleted" to a scheduler), and the pvc-protection controller removes the
// finalizer — the claim is gone — once no pod that has not finished uses it.
import type { Store } from "./store.ts";
import { isObject, type KubeObject } from "./types.ts";

export const PVC_PROTECTION = "kubernetes.io/pvc-protection";

/** Admission: the finalizer on a new claim. */
export function protectClaim(claim: KubeObject): void {
  const finalizers = claim.metadata.finalizers ?? [];
  if (!finalizers.includes(PVC_PROTECTION)) claim.metadata.finalizers = [...finalizers, PVC_PROTECTION];
}

/** Claim names a pod uses: persistentVolumeClaim volumes and `<pod>-<volume>` for generic ephemeral ones. */
function claimsOf(pod: KubeObject): string[] {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const names: string[] = [];
  for (const v of volumes) {
    if (!isObject(v)) continue;
    if (isObject(v.persistentVolumeClaim) && typeof v.persistentVolumeClaim.claimName === "string")
      names.push(v.persistentVolumeClaim.claimName);
    else if (isObject(v.ephemeral) && typeof v.name === "string")
      names.push(`${pod.metadata.name}-${v.name}`);
  }
  return names;
}

const finished = (pod: KubeObject) => {
  const phase = isObject(pod.status) ? pod.status.phase : undefined;
  return phase === "Succeeded" || phase === "Failed";
};

/** The controller's pass over one namespace: a terminating claim no unfinished pod uses loses the finalizer. */
export function releaseClaims(store: Store, namespace: string): void {
  const terminating = store
    .list("persistentvolumeclaims", namespace)
    .filter((c) => c.metadata.deletionTimestamp && c.metadata.finalizers?.includes(PVC_PROTECTION));
  if (terminating.length === 0) return;
  const used = new Set(
    store
      .list("pods", namespace)
      .filter((p) => !finished(p))
      .flatMap(claimsOf),
  );
  for (const claim of terminating) {
    if (used.has(claim.metadata.name ?? "")) continue;
    claim.metadata.finalizers = (claim.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION);
    store.update({ resource: "persistentvolumeclaims" }, claim);
  }
}
