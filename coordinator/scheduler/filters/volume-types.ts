// The storage objects the volume filters read (core/v1 PersistentVolumeClaim and PersistentVolume,
// storage.k8s.io/v1 StorageClass), as structural types client-node's V1 classes fit, and the read-only
// view of them a snapshot carries (the cluster's informer caches behind it; absent without a cluster).
import type { LabelSelector, NodeSelectorTerm } from "../k8s-types.ts";

export interface StorageMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** A string from JSON, a Date from client-node. */
  readonly deletionTimestamp?: string | Date;
  readonly ownerReferences?: ReadonlyArray<{
    readonly uid?: string;
    readonly kind?: string;
    readonly name?: string;
    readonly controller?: boolean;
  }>;
}

export interface PersistentVolumeClaim {
  readonly metadata?: StorageMeta;
  readonly spec?: {
    readonly accessModes?: readonly string[];
    readonly resources?: { readonly requests?: Readonly<Record<string, string>> };
    readonly storageClassName?: string;
    readonly volumeName?: string;
    readonly volumeMode?: string;
    readonly selector?: LabelSelector;
  };
  readonly status?: { readonly phase?: string };
}

export interface PersistentVolume {
  readonly metadata?: StorageMeta;
  readonly spec?: {
    readonly capacity?: Readonly<Record<string, string>>;
    readonly accessModes?: readonly string[];
    readonly storageClassName?: string;
    readonly volumeMode?: string;
    readonly claimRef?: {
      readonly namespace?: string;
      readonly name?: string;
      readonly uid?: string;
    };
    readonly nodeAffinity?: {
      readonly required?: { readonly nodeSelectorTerms?: readonly NodeSelectorTerm[] };
    };
  };
  readonly status?: { readonly phase?: string };
}

export interface TopologySelectorTerm {
  readonly matchLabelExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly values: readonly string[];
  }>;
}

export interface StorageClass {
  readonly metadata?: StorageMeta;
  readonly provisioner?: string;
  /** Immediate (the API server's default) or WaitForFirstConsumer. */
  readonly volumeBindingMode?: string;
  readonly allowedTopologies?: readonly TopologySelectorTerm[];
}

/** The cluster's storage objects now (informer caches). Lookups only: the engine never writes. */
export interface StorageView {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

/** No cluster: no claims, volumes or classes. */
export const EMPTY_STORAGE: StorageView = Object.freeze({
  claim: () => undefined,
  volume: () => undefined,
  volumes: () => [],
  storageClass: () => undefined,
});

export const ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node";
export const ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
export const ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";
export const NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner";
export const READ_WRITE_ONCE_POD = "ReadWriteOncePod";

/** storagehelpers.GetPersistentVolumeClaimClass: the beta annotation first, then spec.storageClassName. */
export function claimClass(claim: PersistentVolumeClaim): string {
  const beta = claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? "";
}

/** storagehelpers.GetPersistentVolumeClass. */
export function volumeClass(pv: PersistentVolume): string {
  const beta = pv.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return pv.spec?.storageClassName ?? "";
}

/** A volume of the pod that names a claim: persistentVolumeClaim, or ephemeral (claim `<pod>-<volume>`). */
export interface PodClaimRef {
  /** The volume's index in spec.volumes. */
  readonly index: number;
  readonly claimName: string;
  readonly ephemeral: boolean;
}

interface VolumeSource {
  readonly name?: string;
  readonly persistentVolumeClaim?: { readonly claimName?: string } | null;
  readonly ephemeral?: object | null;
}

const NO_CLAIMS: readonly string[] = Object.freeze([]);

/** namespace/name of every claim the pod's volumes use (a shared empty array for most pods). */
export function podClaimKeys(pod: {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly volumes?: readonly object[] };
}): readonly string[] {
  if ((pod.spec?.volumes?.length ?? 0) === 0) return NO_CLAIMS;
  const refs = podClaims(pod);
  if (refs.length === 0) return NO_CLAIMS;
  const ns = pod.metadata?.namespace ?? "default";
  return refs.map((r) => `${ns}/${r.claimName}`);
}

/** The pod's claim-backed volumes, in spec order (ephemeral.VolumeClaimName for generic ephemeral volumes). */
export function podClaims(pod: {
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly volumes?: readonly object[] };
}): PodClaimRef[] {
  const out: PodClaimRef[] = [];
  const volumes = pod.spec?.volumes ?? [];
  for (let index = 0; index < volumes.length; index++) {
    const v = volumes[index] as VolumeSource;
    if (v.persistentVolumeClaim) {
      out.push({ index, claimName: v.persistentVolumeClaim.claimName ?? "", ephemeral: false });
    } else if (v.ephemeral) {
      out.push({ index, claimName: `${pod.metadata?.name ?? ""}-${v.name ?? ""}`, ephemeral: true });
    }
  }
  return out;
}
