// The hot per-node numbers packed for the CPU cache. A decision at 5,000 nodes is bound by memory
// traffic, not arithmetic: chasing NodeInfo objects, or two dozen separate arrays, costs a cache miss
// per field. Here the fields a pass reads together sit in one 64-byte record per node (resources, live
// telemetry) or a 32-byte one (bookkeeping), so fit, least-allocated and balanced-allocation read the
// same cache line. NodeInfo stays the source of truth; node-info.ts writes both on every change.
import { compareCodePoints } from "./explain.ts";
import type { NodeInfo } from "./snapshot.ts";

/** `res` record (stride RES, one cache line): allocatable, requested and non-zero requested amounts. */
export const RES = 8;
export const ALLOC_CPU = 0;
export const ALLOC_MEMORY = 1;
export const ALLOC_EPHEMERAL = 2;
export const REQ_CPU = 3;
export const REQ_MEMORY = 4;
export const REQ_EPHEMERAL = 5;
export const NONZERO_CPU = 6;
export const NONZERO_MEMORY = 7;

/** `live` record (stride LIVE): agent telemetry and what live-load scoring needs with it. */
export const LIVE = 8;
export const CPU_PERCENT = 0;
export const MEMORY_PERCENT = 1;
export const DISK_PERCENT = 2;
export const AGE_MS = 3;
export const INTERVAL_MS = 4;
/** 100 / status.capacity.cpu in milli-cores, 0 when the capacity is 0 (see scores/live-load.ts). */
export const HUNDRED_OVER_CAPACITY = 5;
/** 0 no telemetry, 1 agent offline, 2 agent online. */
export const LIVE_STATE = 6;
export const ASSUMED_PODS = 7;
export const NO_TELEMETRY = 0;
export const OFFLINE = 1;
export const ONLINE = 2;

/** `meta` record (stride META, 16 bytes of int32): pod slots, tie-break rank and flag bits. */
export const META = 4;
export const POD_COUNT = 0;
export const ALLOWED_PODS = 1;
/** Position of the node's name in code-point order: the last tie-break as a number compare. */
export const NAME_RANK = 2;
export const FLAGS = 3;
export const UNSCHEDULABLE = 1;
/** The node's numbers are exact integers (NodeInfo.safe). */
export const SAFE = 2;
export const HARD_TAINTS = 4;
export const SOFT_TAINTS = 8;

const MAX_INT32 = 2_147_483_647;

export interface NodeColumns {
  readonly res: Float64Array;
  readonly live: Float64Array;
  readonly meta: Int32Array;
  /** Reason of the node's first NoSchedule/NoExecute taint: the rejection for a pod without tolerations. */
  readonly firstTaintReason: readonly string[];
  /** Node names in index order, so building rejections does not touch every NodeInfo. */
  readonly names: readonly string[];
}

/** Label values of one key as small integers, so matching a value is an integer compare. */
export interface LabelColumn {
  /** ids[node] = value id, -1 when the node lacks the label. */
  readonly ids: Int32Array;
  readonly valueIds: ReadonlyMap<string, number>;
}

export function createColumns(nodes: readonly NodeInfo[]): NodeColumns {
  const n = nodes.length;
  const c: NodeColumns = {
    res: new Float64Array(n * RES),
    live: new Float64Array(n * LIVE),
    meta: new Int32Array(n * META),
    firstTaintReason: new Array<string>(n).fill(""),
    names: nodes.map((node) => node.name),
  };
  const order = nodes
    .map((node) => node.index)
    .sort((a, b) => compareCodePoints((nodes[a] as NodeInfo).name, (nodes[b] as NodeInfo).name));
  order.forEach((index, rank) => {
    c.meta[index * META + NAME_RANK] = rank;
  });
  for (const node of nodes) packNode(c, node);
  return c;
}

/** Writes every field of a node's records: when the snapshot is built, and when the node itself changed. */
export function packNode(c: NodeColumns, node: NodeInfo): void {
  const r = node.index * RES;
  c.res[r + ALLOC_CPU] = node.allocCpu;
  c.res[r + ALLOC_MEMORY] = node.allocMemory;
  c.res[r + ALLOC_EPHEMERAL] = node.allocEphemeral;
  const m = node.index * META;
  // Clamped to int32: a node with 2^31 pod slots is as good as unlimited.
  c.meta[m + ALLOWED_PODS] = Math.min(node.allowedPods, MAX_INT32);
  (c.firstTaintReason as string[])[node.index] = node.hardTaints[0]?.reason ?? "";
  c.live[node.index * LIVE + HUNDRED_OVER_CAPACITY] = node.capacityCpu === 0 ? 0 : 100 / node.capacityCpu;
  packLive(c, node);
  syncNode(c, node);
}

/** Writes a node's live record from NodeInfo.live (all zero, i.e. NO_TELEMETRY, without one). */
export function packLive(c: NodeColumns, node: NodeInfo): void {
  const l = node.index * LIVE;
  const live = node.live;
  c.live[l + LIVE_STATE] = live === undefined ? NO_TELEMETRY : live.online ? ONLINE : OFFLINE;
  c.live[l + CPU_PERCENT] = live?.cpuPercent ?? 0;
  c.live[l + MEMORY_PERCENT] = live?.memoryPercent ?? 0;
  c.live[l + DISK_PERCENT] = live?.diskMaxPercent ?? 0;
  c.live[l + AGE_MS] = live?.ageMs ?? 0;
  c.live[l + INTERVAL_MS] = live?.intervalMs ?? 0;
}

/** Copies a node's mutable aggregates (they change when pods are added or removed). */
export function syncNode(c: NodeColumns, node: NodeInfo): void {
  const r = node.index * RES;
  c.res[r + REQ_CPU] = node.reqCpu;
  c.res[r + REQ_MEMORY] = node.reqMemory;
  c.res[r + REQ_EPHEMERAL] = node.reqEphemeral;
  c.res[r + NONZERO_CPU] = node.nonZeroCpu;
  c.res[r + NONZERO_MEMORY] = node.nonZeroMemory;
  const m = node.index * META;
  c.meta[m + POD_COUNT] = node.pods.length;
  c.meta[m + FLAGS] =
    (node.unschedulable ? UNSCHEDULABLE : 0) |
    (node.safe ? SAFE : 0) |
    (node.hardTaints.length > 0 ? HARD_TAINTS : 0) |
    (node.softTaints.length > 0 ? SOFT_TAINTS : 0);
  c.live[node.index * LIVE + ASSUMED_PODS] = node.assumed.length;
}

export function buildLabelColumn(nodes: readonly NodeInfo[], key: string): LabelColumn {
  const ids = new Int32Array(nodes.length);
  const valueIds = new Map<string, number>();
  for (const node of nodes) {
    const value = node.labels.get(key);
    if (value === undefined) {
      ids[node.index] = -1;
      continue;
    }
    let id = valueIds.get(value);
    if (id === undefined) {
      id = valueIds.size;
      valueIds.set(value, id);
    }
    ids[node.index] = id;
  }
  return { ids, valueIds };
}
