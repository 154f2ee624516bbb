// Refuse what is not honoured. Every PodSpec field (core/v1, Kubernetes 1.33) is classified below as
// honoured by the engine, irrelevant to placement, or refused. A pod that sets a refused field — or a
// field this list does not know (a newer API) — is unschedulable with a message naming the field, so a
// constraint the engine cannot judge never yields a silent, wrong placement.
import type { Pod } from "./k8s-types.ts";

/** Read by a filter or score of the engine. */
const HONOURED: ReadonlySet<string> = new Set([
  "affinity", // nodeAffinity, podAffinity, podAntiAffinity (sub-fields checked below)
  "containers", // resources.requests, ports[].hostPort (sub-fields checked below)
  "initContainers",
  "overhead",
  "nodeName",
  "nodeSelector",
  "tolerations",
  "hostNetwork", // container ports become host ports
  "volumes", // sources checked below
  "topologySpreadConstraints",
  "priority", // PrioritySort (the pending-pod queue) and DefaultPreemption (preemption/)
  "preemptionPolicy", // Never: the pod does not preempt
]);

/**
 * Do not influence which node kube-scheduler's default plugins choose. priorityClassName is resolved
 * into spec.priority by admission, which is what is read.
 * schedulingGates keep a pod out of the queue (the caller's isPendingFor); runtimeClassName reaches
 * scheduling only through overhead and nodeSelector, which admission has already copied into the pod.
 */
const IRRELEVANT: ReadonlySet<string> = new Set([
  "activeDeadlineSeconds",
  "automountServiceAccountToken",
  "dnsConfig",
  "dnsPolicy",
  "enableServiceLinks",
  "ephemeralContainers",
  "hostAliases",
  "hostIPC",
  "hostPID",
  "hostUsers",
  "hostname",
  "hostnameOverride",
  "imagePullSecrets",
  "os",
  "priorityClassName",
  "readinessGates",
  "restartPolicy",
  "runtimeClassName",
  "schedulerName",
  "schedulingGates",
  "securityContext",
  "serviceAccount",
  "serviceAccountName",
  "setHostnameAsFQDN",
  "shareProcessNamespace",
  "subdomain",
  "terminationGracePeriodSeconds",
]);

/** Known, placement-relevant, and not implemented: the reason given to the user. */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ["resourceClaims", "dynamic resource allocation (DynamicResources) is not implemented"],
  ["resources", "pod-level resources are not implemented"],
]);

/** Volume sources kube-scheduler's volume plugins ignore (no binding, zone, limit or conflict check). */
const PLAIN_VOLUMES: ReadonlySet<string> = new Set([
  "emptyDir",
  "configMap",
  "secret",
  "downwardAPI",
  "projected",
  "hostPath",
  "image",
  "nfs",
  "cephfs",
  "glusterfs",
  "gitRepo",
  "flexVolume",
  "flocker",
  "fc",
  "azureFile",
  "quobyte",
  "vsphereVolume",
  "photonPersistentDisk",
  "portworxVolume",
  "scaleIO",
  "storageos",
]);

/**
 * Judged by the volume filters: claims (VolumeRestrictions, VolumeBinding, VolumeZone) and the disks only
 * VolumeRestrictions' disk-conflict check concerns (no CSI migration, so no NodeVolumeLimits).
 */
const JUDGED_VOLUMES: ReadonlySet<string> = new Set(["persistentVolumeClaim", "ephemeral", "iscsi", "rbd"]);

// In-tree GCE PD and AWS EBS volumes are counted by NodeVolumeLimits through CSI migration: refused for
// that, although their disk conflicts are checked.
const VOLUME_REASONS: ReadonlyMap<string, string> = new Map([
  ["csi", "NodeVolumeLimits is not implemented"],
  ["gcePersistentDisk", "NodeVolumeLimits is not implemented"],
  ["awsElasticBlockStore", "NodeVolumeLimits is not implemented"],
  ["azureDisk", "NodeVolumeLimits is not implemented"],
  ["cinder", "NodeVolumeLimits is not implemented"],
]);

const TERM_FIELDS: ReadonlySet<string> = new Set([
  "labelSelector",
  "namespaces",
  "namespaceSelector",
  "topologyKey",
  "matchLabelKeys",
  "mismatchLabelKeys",
]);

export interface Unsupported {
  /** JSON path of the field, e.g. spec.volumes[0].persistentVolumeClaim. */
  readonly field: string;
  readonly why: string;
}

type Obj = Readonly<Record<string, unknown>>;

// Objects decoded by @kubernetes/client-node carry every known key, unset ones as undefined.
const setKeys = (o: unknown): string[] =>
  o !== null && typeof o === "object"
    ? Object.keys(o).filter((k) => (o as Obj)[k] !== undefined && (o as Obj)[k] !== null)
    : [];

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : setKeys(v).length === 0);

const isEmptySelector = (s: unknown): boolean =>
  isEmpty((s as Obj).matchLabels) && isEmpty((s as Obj).matchExpressions);

function checkTerm(term: unknown, path: string, out: Unsupported[]): void {
  for (const k of setKeys(term)) {
    if (!TERM_FIELDS.has(k)) out.push({ field: `${path}.${k}`, why: "an unknown pod affinity term field" });
  }
  const ns = (term as Obj | undefined)?.namespaceSelector;
  // An empty namespaceSelector means every namespace; a non-empty one needs Namespace labels.
  if (ns !== undefined && ns !== null && !isEmptySelector(ns))
    out.push({ field: `${path}.namespaceSelector`, why: "namespace labels are not watched" });
}

function checkPodAffinity(affinity: unknown, path: string, out: Unsupported[]): void {
  for (const k of setKeys(affinity)) {
    const list = (affinity as Obj)[k];
    if (k === "requiredDuringSchedulingIgnoredDuringExecution" && Array.isArray(list)) {
      list.forEach((t, i) => {
        checkTerm(t, `${path}.${k}[${i}]`, out);
      });
    } else if (k === "preferredDuringSchedulingIgnoredDuringExecution" && Array.isArray(list)) {
      list.forEach((t, i) => {
        checkTerm((t as Obj | undefined)?.podAffinityTerm, `${path}.${k}[${i}].podAffinityTerm`, out);
      });
    } else out.push({ field: `${path}.${k}`, why: "an unknown pod affinity field" });
  }
}

function checkContainers(list: unknown, path: string, out: Unsupported[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((c, i) => {
    const claims = (c as { resources?: { claims?: unknown } } | undefined)?.resources?.claims;
    if (!isEmpty(claims))
      out.push({
        field: `${path}[${i}].resources.claims`,
        why: "dynamic resource allocation (DynamicResources) is not implemented",
      });
  });
}

/** Every placement-relevant field of `pod` the engine would ignore, in spec order. Empty when all is honoured. */
export function unsupportedFields(pod: Pod): Unsupported[] {
  const spec = pod.spec as Obj | undefined;
  const out: Unsupported[] = [];
  for (const key of setKeys(spec)) {
    const value = (spec as Obj)[key];
    if (HONOURED.has(key) || IRRELEVANT.has(key)) continue;
    if (REFUSED.has(key)) {
      if (!isEmpty(value)) out.push({ field: `spec.${key}`, why: REFUSED.get(key) as string });
    } else out.push({ field: `spec.${key}`, why: "a field this scheduler does not know" });
  }
  const affinity = spec?.affinity;
  for (const k of setKeys(affinity)) {
    if (k === "podAffinity" || k === "podAntiAffinity")
      checkPodAffinity((affinity as Obj)[k], `spec.affinity.${k}`, out);
    else if (k !== "nodeAffinity")
      out.push({ field: `spec.affinity.${k}`, why: "an unknown affinity field" });
  }
  checkContainers(spec?.containers, "spec.containers", out);
  checkContainers(spec?.initContainers, "spec.initContainers", out);
  const volumes = spec?.volumes;
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      for (const k of setKeys(v)) {
        if (k === "name" || PLAIN_VOLUMES.has(k) || JUDGED_VOLUMES.has(k)) continue;
        out.push({
          field: `spec.volumes[${i}].${k}`,
          why: VOLUME_REASONS.get(k) ?? "a volume source this scheduler does not know",
        });
      }
    });
  }
  return out;
}

/**
 * The PreFilter-style status message for a refused pod: one line, every field named. Fields are joined
 * with "; " because reasons are split on ", " when counted (FitError histogram, analytics).
 */
export const unsupportedMessage = (fields: readonly Unsupported[]): string =>
  `pod uses ${fields.map((f) => `${f.field} (${f.why})`).join("; ")}, which the k3s-fleet scheduler does not honour`;
