// The two writes kube-scheduler's VolumeBinding PreBind makes before a pod is bound (volume binder
// bindAPIUpdate), as JSON merge patches that carry the resourceVersion the decision was made on, so a
// claim or volume changed since is a 409 Conflict rather than a blind overwrite:
//  - a claim to provision on the chosen node gets `volume.kubernetes.io/selected-node: <node>` (the
//    provisioner, e.g. K3s's local-path, then creates the volume there);
//  - a pre-provisioned volume chosen for a claim gets `spec.claimRef` (and `pv.kubernetes.io/bound-by-controller`),
//    which the PV controller completes into a binding.
import { type CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import {
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  type PersistentVolume,
  type PersistentVolumeClaim,
} from "../scheduler/filters/volume-types.ts";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Sets the claim's selected-node annotation, on the resourceVersion it was read at. */
export async function selectNode(core: CoreV1Api, claim: PersistentVolumeClaim, node: string): Promise<void> {
  const meta = claim.metadata ?? {};
  await core.patchNamespacedPersistentVolumeClaim(
    {
      name: meta.name ?? "",
      namespace: meta.namespace ?? "default",
      body: {
        metadata: { resourceVersion: meta.resourceVersion, annotations: { [ANN_SELECTED_NODE]: node } },
      },
    },
    MERGE_PATCH,
  );
}

/** volume.GetBindVolumeToClaim: the volume's claimRef names the claim (with its uid). */
export async function bindVolume(
  core: CoreV1Api,
  pv: PersistentVolume,
  claim: PersistentVolumeClaim,
): Promise<void> {
  const c = claim.metadata ?? {};
  await core.patchPersistentVolume(
    {
      name: pv.metadata?.name ?? "",
      body: {
        metadata: {
          resourceVersion: pv.metadata?.resourceVersion,
          annotations: { [ANN_BOUND_BY_CONTROLLER]: "yes" },
        },
        spec: {
          claimRef: {
            kind: "PersistentVolumeClaim",
            apiVersion: "v1",
            namespace: c.namespace,
            name: c.name,
            uid: c.uid,
            resourceVersion: c.resourceVersion,
          },
        },
      },
    },
    MERGE_PATCH,
  );
}
