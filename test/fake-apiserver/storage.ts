// PersistentVolumeClaims, PersistentVolumes (core/v1) and StorageClasses (storage.k8s.io/v1), with the
// apiserver's defaulting (SetDefaults_*: status.phase Pending, volumeMode Filesystem, reclaim policies,
// volumeBindingMode Immediate) and the validation rules a scheduler can run into: required access modes
// and storage request, ReadWriteOncePod alone, a claim's spec immutable after creation except
// resources.requests and a first volumeName, a class's provisioner/parameters/reclaimPolicy/
// volumeBindingMode immutable. Optimistic concurrency (409 on a stale resourceVersion) is the generic
// update path's (handlers.ts `write`), for PUT and PATCH alike.
import { canonicalJson } from "./canonical-json.ts";
import { type FieldError, forbidden, notSupported, required } from "./field-errors.ts";
import { protectClaim } from "./pvc-protection.ts";
import type { ResourceDef } from "./resources.ts";
import { isObject, type JsonObject, type KubeObject } from "./types.ts";

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES = ["Block", "Filesystem"];
const BINDING_MODES = ["Immediate", "WaitForFirstConsumer"];

const specOf = (obj: KubeObject): JsonObject => {
  if (!isObject(obj.spec)) obj.spec = {};
  return obj.spec as JsonObject;
};
const statusOf = (obj: KubeObject): JsonObject => {
  if (!isObject(obj.status)) obj.status = {};
  return obj.status as JsonObject;
};
const keepStatus = (obj: KubeObject, old: KubeObject) => {
  if (old.status === undefined) delete obj.status;
  else obj.status = structuredClone(old.status);
};
const keepSpec = (obj: KubeObject, old: KubeObject) => {
  if (old.spec === undefined) delete obj.spec;
  else obj.spec = structuredClone(old.spec);
};

/** ValidatePersistentVolumeClaimSpec / PersistentVolumeSpec access modes. */
function accessModeErrors(spec: JsonObject, path: string): FieldError[] {
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : [];
  if (modes.length === 0) return [required(`${path}.accessModes`, "at least 1 access mode is required")];
  const errors: FieldError[] = [];
  for (const mode of modes) {
    if (!ACCESS_MODES.includes(String(mode)))
      errors.push(notSupported(`${path}.accessModes`, mode, ACCESS_MODES));
  }
  if (modes.includes("ReadWriteOncePod") && modes.length > 1)
    errors.push(forbidden(`${path}.accessModes`, "may not use ReadWriteOncePod with other access modes"));
  return errors;
}

function volumeModeErrors(spec: JsonObject, path: string): FieldError[] {
  const mode = spec.volumeMode;
  return mode === undefined || VOLUME_MODES.includes(String(mode))
    ? []
    : [notSupported(`${path}.volumeMode`, mode, VOLUME_MODES)];
}

function claimErrors(claim: KubeObject): FieldError[] {
  const spec = isObject(claim.spec) ? claim.spec : {};
  const requests =
    isObject(spec.resources) && isObject(spec.resources.requests) ? spec.resources.requests : {};
  const errors = [...accessModeErrors(spec, "spec"), ...volumeModeErrors(spec, "spec")];
  if (requests.storage === undefined) errors.push(required("spec.resources[storage]", ""));
  return errors;
}

/** ValidatePersistentVolumeClaimUpdate: only resources.requests, and volumeName while it was empty, may change. */
function claimUpdateErrors(claim: KubeObject, old: KubeObject): FieldError[] {
  const comparable = (obj: KubeObject, volumeName: unknown): string => {
    const spec: JsonObject = structuredClone(isObject(obj.spec) ? obj.spec : {});
    if (isObject(spec.resources)) delete spec.resources.requests;
    spec.volumeName = volumeName ?? null;
    return canonicalJson(spec);
  };
  const oldSpec = isObject(old.spec) ? old.spec : {};
  const newSpec = isObject(claim.spec) ? claim.spec : {};
  const volumeName = oldSpec.volumeName ? oldSpec.volumeName : newSpec.volumeName;
  if (comparable(claim, volumeName) === comparable(old, volumeName)) return [];
  return [
    forbidden(
      "spec",
      "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
    ),
  ];
}

export const persistentVolumeClaims: ResourceDef = {
  group: "",
  version: "v1",
  resource: "persistentvolumeclaims",
  singular: "persistentvolumeclaim",
  kind: "PersistentVolumeClaim",
  namespaced: true,
  shortNames: ["pvc"],
  verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  storage: "persistentvolumeclaims",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name", "metadata.namespace"],
  returnDeletedObject: true,
  hasStatus: true,
  toStorage: (obj) => obj,
  fromStorage: (obj) => obj,
  prepareForCreate(claim) {
    protectClaim(claim);
    const spec = specOf(claim);
    spec.volumeMode ??= "Filesystem";
    claim.status = { phase: "Pending" };
  },
  prepareForUpdate(claim, old) {
    specOf(claim).volumeMode ??= "Filesystem";
    keepStatus(claim, old);
  },
  prepareForStatusUpdate: keepSpec,
  validate: claimErrors,
  validateUpdate: (claim, old) => [...claimErrors(claim), ...claimUpdateErrors(claim, old)],
};

const PV_SOURCES = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "csi",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "glusterfs",
  "hostPath",
  "iscsi",
  "local",
  "nfs",
  "photonPersistentDisk",
  "portworxVolume",
  "quobyte",
  "rbd",
  "scaleIO",
  "storageos",
  "vsphereVolume",
];

function volumeErrors(pv: KubeObject): FieldError[] {
  const spec = isObject(pv.spec) ? pv.spec : {};
  const capacity = isObject(spec.capacity) ? spec.capacity : {};
  const errors = [...accessModeErrors(spec, "spec"), ...volumeModeErrors(spec, "spec")];
  if (capacity.storage === undefined) errors.push(required("spec.capacity[storage]", ""));
  const sources = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (sources.length === 0) errors.push(required("spec", "must specify a volume type"));
  if (spec.local !== undefined && !isObject(spec.nodeAffinity))
    errors.push(required("spec.nodeAffinity", "Local volume requires node affinity"));
  return errors;
}

export const persistentVolumes: ResourceDef = {
  group: "",
  version: "v1",
  resource: "persistentvolumes",
  singular: "persistentvolume",
  kind: "PersistentVolume",
  namespaced: false,
  shortNames: ["pv"],
  verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  storage: "persistentvolumes",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name"],
  returnDeletedObject: true,
  hasStatus: true,
  toStorage: (obj) => obj,
  fromStorage: (obj) => obj,
  prepareForCreate(pv) {
    const spec = specOf(pv);
    spec.volumeMode ??= "Filesystem";
    spec.persistentVolumeReclaimPolicy ??= "Retain";
    pv.status = { phase: "Pending" };
  },
  prepareForUpdate(pv, old) {
    specOf(pv).volumeMode ??= "Filesystem";
    keepStatus(pv, old);
  },
  prepareForStatusUpdate(pv, old) {
    keepSpec(pv, old);
    statusOf(pv);
  },
  validate: volumeErrors,
  validateUpdate: volumeErrors,
};

function classErrors(sc: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof sc.provisioner !== "string" || sc.provisioner === "") errors.push(required("provisioner", ""));
  const mode = sc.volumeBindingMode;
  if (mode !== undefined && !BINDING_MODES.includes(String(mode)))
    errors.push(notSupported("volumeBindingMode", mode, BINDING_MODES));
  return errors;
}

function classUpdateErrors(sc: KubeObject, old: KubeObject): FieldError[] {
  const errors = classErrors(sc);
  for (const field of ["parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"]) {
    if (canonicalJson(sc[field] ?? null) !== canonicalJson(old[field] ?? null))
      errors.push(forbidden(field, `updates to ${field} are forbidden.`));
  }
  return errors;
}

export const storageClasses: ResourceDef = {
  group: "storage.k8s.io",
  version: "v1",
  resource: "storageclasses",
  singular: "storageclass",
  kind: "StorageClass",
  namespaced: false,
  shortNames: ["sc"],
  verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
  storage: "storageclasses",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name"],
  returnDeletedObject: false,
  hasStatus: false,
  toStorage: (obj) => obj,
  fromStorage: (obj) => obj,
  prepareForCreate(sc) {
    sc.reclaimPolicy ??= "Delete";
    sc.volumeBindingMode ??= "Immediate";
  },
  prepareForUpdate(sc) {
    sc.reclaimPolicy ??= "Delete";
    sc.volumeBindingMode ??= "Immediate";
  },
  prepareForStatusUpdate() {},
  validate: classErrors,
  validateUpdate: classUpdateErrors,
};
