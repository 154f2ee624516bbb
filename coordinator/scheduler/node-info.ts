// Adding and removing a pod on a NodeInfo (framework.NodeInfo AddPod/RemovePod): request sums,
// non-zero sums, pod count and the spread index move together.

import { updateAffinityIndex } from "./affinity-index.ts";
import { syncNode } from "./columns.ts";
import { SnapshotError } from "./errors.ts";
import { type HostPort, podHostPorts } from "./filters/node-ports.ts";
import { podDisks } from "./filters/volume-disks.ts";
import { podClaimKeys } from "./filters/volume-types.ts";
import type { Pod } from "./k8s-types.ts";
import { compilePodAffinity, type PodAffinityInfo } from "./pod-affinity.ts";
import { type PodResources, podResources } from "./pod-requests.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";
import { updateSpreadIndex } from "./spread-index.ts";

export interface PodInfo {
  /** metadata.uid, else namespace/name. */
  readonly key: string;
  /** metadata.name ("" when the pod has none): PodDisruptionBudget status.disruptedPods is keyed by it. */
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  /** spec.priority, 0 when unset (DefaultPreemption evicts only strictly lower priorities). */
  readonly priority: number;
  /** status.startTime in ms; undefined before the kubelet started it (kube-scheduler then reads "now"). */
  readonly startTime: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly resources: PodResources;
  /** Set for pods we assumed onto the node (assume.ts). */
  readonly assumedAt: number | undefined;
  readonly expiresAt: number | undefined;
  /** Trimaran's predicted CPU use in milli-cores, for assumed pods not yet visible in telemetry. */
  readonly predictedCpu: number;
  /** Host ports the pod holds on its node (NodePorts); a shared empty array for most pods. */
  readonly hostPorts: readonly HostPort[];
  /** The pod's own pod (anti-)affinity terms, which constrain pods placed after it. */
  readonly affinity: PodAffinityInfo | undefined;
  /** The claims its volumes use, as namespace/name (VolumeRestrictions' ReadWriteOncePod check). */
  readonly claims: readonly string[];
  /** Its GCE PD, AWS EBS, iSCSI and RBD volumes (VolumeRestrictions' disk conflicts); usually empty. */
  readonly disks: readonly object[];
  /** metadata.deletionTimestamp is set: it still holds resources, but no longer counts for spreading. */
  readonly terminating: boolean;
}

export interface PodInfoOptions {
  readonly fallbackKey?: string;
  readonly assumedAt?: number;
  readonly expiresAt?: number;
  readonly predictedCpu?: number;
}

export function podKey(pod: Pod): string | undefined {
  const meta = pod.metadata;
  if (meta?.uid) return meta.uid;
  if (meta?.name) return `${meta.namespace ?? "default"}/${meta.name}`;
  return undefined;
}

export function createPodInfo(pod: Pod, options: PodInfoOptions = {}): PodInfo {
  const key = podKey(pod) ?? options.fallbackKey;
  if (key === undefined) throw new SnapshotError("pod has neither metadata.uid nor metadata.name");
  return {
    key,
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    namespace: pod.metadata?.namespace ?? "default",
    priority: podPriority(pod),
    startTime: timeMs(pod.status?.startTime),
    labels: pod.metadata?.labels ?? {},
    resources: podResources(pod),
    assumedAt: options.assumedAt,
    expiresAt: options.expiresAt,
    predictedCpu: options.predictedCpu ?? 0,
    hostPorts: podHostPorts(pod),
    claims: podClaimKeys(pod),
    disks: podDisks(pod),
    affinity: existingAffinity(pod),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
  };
}

// An informer hands out the same object for a pod until the pod changes (an update brings a new object),
// so what was parsed from an object holds as long as the object lives: a rebuilt snapshot reuses it
// instead of parsing every pod's quantities again. PodInfo is never modified once made.
const parsedPods = new WeakMap<Pod, PodInfo>();

/** createPodInfo for a pod the cluster reports bound, reused while the pod object is the same. */
export function boundPodInfo(pod: Pod, fallbackKey?: string): PodInfo {
  const cached = parsedPods.get(pod);
  if (cached !== undefined && cached.key === (podKey(pod) ?? fallbackKey)) return cached;
  const info = createPodInfo(pod, fallbackKey === undefined ? {} : { fallbackKey });
  parsedPods.set(pod, info);
  return info;
}

// The API server rejects invalid selectors, so a bound pod has none; if one slips through (a
// hand-written snapshot), its terms are left out rather than failing the whole snapshot.
function existingAffinity(pod: Pod): PodAffinityInfo | undefined {
  try {
    return compilePodAffinity(pod);
  } catch {
    return undefined;
  }
}

/** corev1helpers.PodPriority: spec.priority, 0 when unset. */
export const podPriority = (pod: Pod): number => pod.spec?.priority ?? 0;

/** A Kubernetes timestamp (RFC 3339 string, or a Date from client-node) in ms; undefined when absent or invalid. */
export function timeMs(t: string | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function refreshNumbers(node: NodeInfo): void {
  const e = node.exact;
  node.reqCpu = Number(e.reqCpu);
  node.reqMemory = Number(e.reqMemory);
  node.reqEphemeral = Number(e.reqEphemeral);
  node.safe =
    e.allocCpu <= MAX_SAFE &&
    e.allocMemory <= MAX_SAFE &&
    e.allocEphemeral <= MAX_SAFE &&
    e.reqCpu <= MAX_SAFE &&
    e.reqMemory <= MAX_SAFE &&
    e.reqEphemeral <= MAX_SAFE;
}

function apply(snapshot: Snapshot, node: NodeInfo, pod: PodInfo, sign: 1n | -1n): void {
  const r = pod.resources;
  const e = node.exact;
  e.reqCpu += sign * r.cpu;
  e.reqMemory += sign * r.memory;
  e.reqEphemeral += sign * r.ephemeralStorage;
  for (const [name, v] of r.scalars) {
    const next = (node.reqScalars.get(name) ?? 0n) + sign * v;
    if (next === 0n) node.reqScalars.delete(name);
    else node.reqScalars.set(name, next);
  }
  // Non-zero sums only feed scores, which are approximate past 2^53 anyway.
  node.nonZeroCpu += Number(sign * r.nonZeroCpu);
  node.nonZeroMemory += Number(sign * r.nonZeroMemory);
  refreshNumbers(node);
  syncNode(snapshot.columns, node);
  updateSpreadIndex(snapshot, node.index, pod, sign === 1n ? 1 : -1);
  updateAffinityIndex(snapshot, node.index, pod, sign === 1n ? 1 : -1);
}

export function addPodToNode(snapshot: Snapshot, node: NodeInfo, pod: PodInfo): void {
  if (snapshot.podNode.has(pod.key))
    throw new SnapshotError(`pod ${pod.key} is already on node ${snapshot.podNode.get(pod.key)?.name}`);
  node.pods.push(pod);
  if (pod.assumedAt !== undefined) node.assumed.push(pod);
  snapshot.podNode.set(pod.key, node);
  apply(snapshot, node, pod, 1n);
}

export function removePodFromNode(snapshot: Snapshot, key: string): PodInfo | undefined {
  const node = snapshot.podNode.get(key);
  if (node === undefined) return undefined;
  const i = node.pods.findIndex((p) => p.key === key);
  const pod = node.pods[i] as PodInfo;
  node.pods.splice(i, 1);
  const j = node.assumed.indexOf(pod);
  if (j >= 0) node.assumed.splice(j, 1);
  snapshot.podNode.delete(key);
  apply(snapshot, node, pod, -1n);
  return pod;
}
