// The cluster as the old tool's "Cluster Health" and "Node Metrics" sections count it, from informer
// caches. Pure: nodes and pods in, numbers out. Quantities are parsed exactly (the scheduler's
// resource.Quantity port) and a node's requests are summed the way kube-scheduler sums them.
//
// Counting rules:
// - A node is ready when its Ready condition is "True".
// - Total Pods counts every pod in the cache, any phase; Running Pods those in phase Running.
// - Pod Health is Running / (Total − Succeeded) × 100: a Succeeded pod (a finished Job) did what it was
//   for, so it neither counts as healthy nor drags the percentage down. Failed, Pending and Unknown pods
//   count against it. Node Health is Ready / Total × 100. An empty denominator gives 0, as FleetHealth does.
// - A node's requested CPU/memory is the sum of the effective requests (containers, init containers,
//   overhead: PodRequests) of the non-terminated pods bound to it (spec.nodeName); Succeeded and Failed
//   pods hold no resources. Its `pods` count uses the same pods ("Non-terminated Pods" in kubectl describe).
import { type Pod, parseQuantity, podResources, toMilli, toUnits } from "../scheduler/index.ts";

/** The parts of a core/v1 Node read here; client-node's V1Node fits. */
export interface NodeLike {
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: {
    readonly capacity?: Readonly<Record<string, string>>;
    readonly allocatable?: Readonly<Record<string, string>>;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
  };
}

/** A core/v1 Pod as the scheduler reads it (spec.nodeName, requests, status.phase); V1Pod fits. */
export type PodLike = Pod;

export interface ResourceUsage {
  readonly cpuMillis: bigint;
  readonly memoryBytes: bigint;
}

export interface NodeState {
  readonly name: string;
  readonly ready: boolean;
  readonly unschedulable: boolean;
  /** Non-terminated pods bound to the node. */
  readonly pods: number;
  readonly cpuCapacityMillis: bigint;
  readonly cpuAllocatableMillis: bigint;
  readonly cpuRequestedMillis: bigint;
  readonly memoryCapacityBytes: bigint;
  readonly memoryAllocatableBytes: bigint;
  readonly memoryRequestedBytes: bigint;
}

export interface ClusterState {
  readonly totalNodes: number;
  readonly readyNodes: number;
  readonly totalPods: number;
  readonly runningPods: number;
  readonly succeededPods: number;
  readonly nodeHealthPercent: number;
  readonly podHealthPercent: number;
  /** Sorted by name. */
  readonly nodes: readonly NodeState[];
  /** Pods whose requests do not parse (the apiserver would not have accepted them); left out of sums. */
  readonly invalidPods: number;
}

export const isNodeReady = (node: NodeLike): boolean =>
  node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Succeeded and Failed pods are terminated: they hold no resources on their node. */
export const isTerminated = (pod: PodLike): boolean =>
  pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

export const healthPercent = (healthy: number, total: number): number =>
  total === 0 ? 0 : (healthy / total) * 100;

/** CPU quantity → millicores (rounded up, as MilliValue); missing or malformed → 0. */
export function cpuMillis(list: Readonly<Record<string, string>> | undefined): bigint {
  return quantity(list?.cpu, toMilli);
}

/** Memory quantity → bytes (rounded up, as Value); missing or malformed → 0. */
export function memoryBytes(list: Readonly<Record<string, string>> | undefined): bigint {
  return quantity(list?.memory, toUnits);
}

function quantity(value: string | undefined, unit: (q: ReturnType<typeof parseQuantity>) => bigint): bigint {
  if (value === undefined) return 0n;
  try {
    return unit(parseQuantity(value));
  } catch {
    return 0n;
  }
}

interface Bound {
  pods: number;
  cpu: bigint;
  memory: bigint;
}

export function buildClusterState(nodes: readonly NodeLike[], pods: readonly PodLike[]): ClusterState {
  const bound = new Map<string, Bound>();
  let runningPods = 0;
  let succeededPods = 0;
  let invalidPods = 0;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Running") runningPods++;
    else if (phase === "Succeeded") succeededPods++;
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isTerminated(pod)) continue;
    let sum = bound.get(nodeName);
    if (sum === undefined) {
      sum = { pods: 0, cpu: 0n, memory: 0n };
      bound.set(nodeName, sum);
    }
    sum.pods++;
    try {
      const requests = podResources(pod);
      sum.cpu += requests.cpu;
      sum.memory += requests.memory;
    } catch {
      invalidPods++;
    }
  }

  const states: NodeState[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (!name) continue;
    const sum = bound.get(name);
    states.push({
      name,
      ready: isNodeReady(node),
      unschedulable: node.spec?.unschedulable === true,
      pods: sum?.pods ?? 0,
      cpuCapacityMillis: cpuMillis(node.status?.capacity),
      cpuAllocatableMillis: cpuMillis(node.status?.allocatable),
      cpuRequestedMillis: sum?.cpu ?? 0n,
      memoryCapacityBytes: memoryBytes(node.status?.capacity),
      memoryAllocatableBytes: memoryBytes(node.status?.allocatable),
      memoryRequestedBytes: sum?.memory ?? 0n,
    });
  }
  states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const readyNodes = states.filter((n) => n.ready).length;
  return {
    totalNodes: states.length,
    readyNodes,
    totalPods: pods.length,
    runningPods,
    succeededPods,
    nodeHealthPercent: healthPercent(readyNodes, states.length),
    podHealthPercent: healthPercent(runningPods, pods.length - succeededPods),
    nodes: states,
    invalidPods,
  };
}
