// The resources the fake serves, each described like an apiserver registry strategy: scope, names,
// selectable fields, defaulting, validation, and which half (spec or status) each endpoint may change.
import { defaultPod, initialPodStatus } from "./defaults.ts";
import { coreToEventsV1, eventErrors, eventsV1ToCore } from "./events-v1.ts";
import { type FieldError, notSupported } from "./field-errors.ts";
import { leases } from "./leases.ts";
import { podDisruptionBudgets } from "./pdbs.ts";
import { persistentVolumeClaims, persistentVolumes, storageClasses } from "./storage.ts";
import { isObject, type JsonObject, type KubeObject } from "./types.ts";
import type { NameRule } from "./validate.ts";
import { podSpecErrors, podUpdateErrors } from "./validate-pod.ts";

export interface ResourceDef {
  group: string;
  version: string;
  /** Plural, as in the URL. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Store bucket; core and events.k8s.io Events share one. */
  storage: string;
  nameRule: NameRule;
  /** Field selector labels this resource supports. */
  fieldLabels: readonly string[];
  returnDeletedObject: boolean;
  hasStatus: boolean;
  /** Category "all", etc., for discovery. */
  categories?: string[];
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  /** Defaulting + PrepareForCreate, on the storage form. */
  prepareForCreate(obj: KubeObject): void;
  /** Main-resource update: status is kept from `old`. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** Status subresource update: everything but status (and metadata) is kept from `old`. */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
}

export function apiVersionOf(def: Pick<ResourceDef, "group" | "version">): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** Dotted-path lookup for field selectors: "spec.nodeName" → obj.spec.nodeName as a string. */
export function fieldValue(obj: KubeObject, path: string): string {
  let node: unknown = obj;
  for (const part of path.split(".")) node = isObject(node) ? node[part] : undefined;
  return node === undefined || node === null ? "" : String(node);
}

const identity = (obj: KubeObject) => obj;
const keepStatus = (obj: KubeObject, old: KubeObject) => {
  if (old.status === undefined) delete obj.status;
  else obj.status = structuredClone(old.status);
};
const keepSpec = (obj: KubeObject, old: KubeObject) => {
  if (old.spec === undefined) delete obj.spec;
  else obj.spec = structuredClone(old.spec);
};

const READ_WRITE = ["create", "delete", "get", "list", "patch", "update", "watch"];

export const pods: ResourceDef = {
  group: "",
  version: "v1",
  resource: "pods",
  singular: "pod",
  kind: "Pod",
  namespaced: true,
  shortNames: ["po"],
  verbs: [...READ_WRITE, "deletecollection"],
  categories: ["all"],
  storage: "pods",
  nameRule: "subdomain",
  fieldLabels: [
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  returnDeletedObject: true,
  hasStatus: true,
  toStorage: identity,
  fromStorage: identity,
  prepareForCreate(pod) {
    defaultPod(pod);
    pod.status = initialPodStatus(pod);
  },
  prepareForUpdate(pod, old) {
    defaultPod(pod);
    keepStatus(pod, old);
  },
  prepareForStatusUpdate(pod, old) {
    keepSpec(pod, old);
    pod.metadata.ownerReferences = old.metadata.ownerReferences;
    if (!pod.metadata.ownerReferences) delete pod.metadata.ownerReferences;
  },
  validate: podSpecErrors,
  validateUpdate: (pod, old) => [...podSpecErrors(pod), ...podUpdateErrors(pod, old)],
};

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/** validateNodeTaints' effect check (key and effect presence is schema-required). */
function taintErrors(node: KubeObject): FieldError[] {
  const spec: JsonObject = isObject(node.spec) ? node.spec : {};
  const taints = Array.isArray(spec.taints) ? spec.taints : [];
  return taints.flatMap((t, i) =>
    isObject(t) && t.effect !== undefined && !TAINT_EFFECTS.includes(String(t.effect))
      ? [notSupported(`spec.taints[${i}].effect`, t.effect, TAINT_EFFECTS)]
      : [],
  );
}

export const nodes: ResourceDef = {
  group: "",
  version: "v1",
  resource: "nodes",
  singular: "node",
  kind: "Node",
  namespaced: false,
  shortNames: ["no"],
  verbs: [...READ_WRITE, "deletecollection"],
  storage: "nodes",
  nameRule: "subdomain",
  fieldLabels: ["metadata.name", "spec.unschedulable"],
  returnDeletedObject: false,
  hasStatus: true,
  toStorage: identity,
  fromStorage: identity,
  prepareForCreate() {},
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate: taintErrors,
  validateUpdate: taintErrors,
};

export const namespaces: ResourceDef = {
  group: "",
  version: "v1",
  resource: "namespaces",
  singular: "namespace",
  kind: "Namespace",
  namespaced: false,
  shortNames: ["ns"],
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  storage: "namespaces",
  nameRule: "label",
  fieldLabels: ["metadata.name", "status.phase"],
  returnDeletedObject: false,
  hasStatus: true,
  toStorage: identity,
  fromStorage: identity,
  prepareForCreate(ns) {
    ns.spec = { finalizers: ["kubernetes"] };
    ns.status = { phase: "Active" };
    ns.metadata.labels = { ...ns.metadata.labels, "kubernetes.io/metadata.name": ns.metadata.name ?? "" };
  },
  prepareForUpdate: keepStatus,
  prepareForStatusUpdate: keepSpec,
  validate: () => [],
  validateUpdate: () => [],
};

const EVENT_FIELDS = [
  "metadata.name",
  "metadata.namespace",
  "involvedObject.kind",
  "involvedObject.namespace",
  "involvedObject.name",
  "involvedObject.uid",
  "involvedObject.apiVersion",
  "involvedObject.resourceVersion",
  "involvedObject.fieldPath",
  "reason",
  "reportingComponent",
  "source",
  "type",
] as const;

export const coreEvents: ResourceDef = {
  group: "",
  version: "v1",
  resource: "events",
  singular: "event",
  kind: "Event",
  namespaced: true,
  shortNames: ["ev"],
  verbs: [...READ_WRITE, "deletecollection"],
  storage: "events",
  nameRule: "subdomain",
  fieldLabels: EVENT_FIELDS,
  returnDeletedObject: false,
  hasStatus: false,
  toStorage: identity,
  fromStorage: identity,
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: (event) => eventErrors(event, false),
  validateUpdate: (event) => eventErrors(event, false),
};

export const eventsV1: ResourceDef = {
  ...coreEvents,
  group: "events.k8s.io",
  version: "v1",
  shortNames: ["ev"],
  toStorage: eventsV1ToCore,
  fromStorage: coreToEventsV1,
  validate: (event) => eventErrors(event, true),
  validateUpdate: (event) => eventErrors(event, true),
};

/** Every served resource, for routing and discovery. */
export const RESOURCES: readonly ResourceDef[] = [
  pods,
  nodes,
  namespaces,
  coreEvents,
  eventsV1,
  leases,
  persistentVolumeClaims,
  persistentVolumes,
  storageClasses,
  podDisruptionBudgets,
];
