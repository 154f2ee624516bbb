// VolumeRestrictions' disk-conflict check (volume_restrictions.go isVolumeConflict): a GCE PD, AWS EBS, iSCSI
// or RBD volume the pod mounts must not already be mounted by a pod on the node — the same PD unless both
// mount it read-only, the same EBS volume id at all, the same iSCSI IQN unless both read-only, the same RBD
// image (a shared Ceph monitor, same pool and image) unless both read-only.
interface DiskVolume {
  readonly gcePersistentDisk?: { readonly pdName?: string; readonly readOnly?: boolean } | null;
  readonly awsElasticBlockStore?: { readonly volumeID?: string } | null;
  readonly iscsi?: { readonly iqn?: string; readonly readOnly?: boolean } | null;
  readonly rbd?: {
    readonly monitors?: readonly string[];
    readonly pool?: string;
    readonly image?: string;
    readonly readOnly?: boolean;
  } | null;
}

export const ERR_REASON_DISK_CONFLICT = "node(s) had no available disk";

const NO_DISKS: readonly object[] = Object.freeze([]);

/** needsRestrictionsCheck: the pod's volumes that can conflict (a shared empty array for most pods). */
export function podDisks(pod: {
  readonly spec?: { readonly volumes?: readonly object[] };
}): readonly object[] {
  const volumes = pod.spec?.volumes;
  if (volumes === undefined || volumes.length === 0) return NO_DISKS;
  const disks = volumes.filter((v) => {
    const d = v as DiskVolume;
    return Boolean(d.gcePersistentDisk || d.awsElasticBlockStore || d.iscsi || d.rbd);
  });
  return disks.length === 0 ? NO_DISKS : disks;
}

const bothReadOnly = (a: { readOnly?: boolean }, b: { readOnly?: boolean }): boolean =>
  a.readOnly === true && b.readOnly === true;

/** isVolumeConflict for one volume of the incoming pod against one volume of a pod on the node. */
export function disksConflict(volume: object, existing: object): boolean {
  const v = volume as DiskVolume;
  const e = existing as DiskVolume;
  if (v.gcePersistentDisk && e.gcePersistentDisk) {
    if (
      v.gcePersistentDisk.pdName === e.gcePersistentDisk.pdName &&
      !bothReadOnly(v.gcePersistentDisk, e.gcePersistentDisk)
    )
      return true;
  }
  if (v.awsElasticBlockStore && e.awsElasticBlockStore) {
    if (v.awsElasticBlockStore.volumeID === e.awsElasticBlockStore.volumeID) return true;
  }
  if (v.iscsi && e.iscsi) {
    if (v.iscsi.iqn === e.iscsi.iqn && !bothReadOnly(v.iscsi, e.iscsi)) return true;
  }
  if (v.rbd && e.rbd) {
    const monitors = new Set(v.rbd.monitors ?? []);
    const overlap = (e.rbd.monitors ?? []).some((m) => monitors.has(m));
    if (overlap && v.rbd.pool === e.rbd.pool && v.rbd.image === e.rbd.image && !bothReadOnly(v.rbd, e.rbd))
      return true;
  }
  return false;
}
