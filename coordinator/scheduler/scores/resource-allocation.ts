// NodeResourcesFit scoring (least_allocated.go, most_allocated.go) and NodeResourcesBalancedAllocation
// (balanced_allocation.go), with kube-scheduler's integer arithmetic.
import {
  ALLOC_CPU,
  ALLOC_EPHEMERAL,
  ALLOC_MEMORY,
  NONZERO_CPU,
  NONZERO_MEMORY,
  REQ_CPU,
  REQ_EPHEMERAL,
  REQ_MEMORY,
  RES,
} from "../columns.ts";
import type { SchedulerConfig } from "../config.ts";
import { MAX_NODE_SCORE, type PluginContext, type ScorePlugin, scoreEach } from "../plugins.ts";
import type { CompiledPod } from "../pod.ts";
import type { NodeInfo } from "../snapshot.ts";

// Below this capacity float division then floor equals Go's int64 (a*100)/c: the float error
// (≤ 100·2^-53) is smaller than the gap 1/c to the next integer. Above it, use bigints.
const FLOAT_EXACT_CAPACITY = 9e13;

/** floor(a × 100 / c) for non-negative integers a ≤ c, exactly. */
function percentFloor(a: number, c: number): number {
  if (c < FLOAT_EXACT_CAPACITY) return Math.floor((a * MAX_NODE_SCORE) / c);
  return Number((BigInt(a) * BigInt(MAX_NODE_SCORE)) / BigInt(c));
}

/** leastRequestedScore: unused share of capacity, 0-100. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return percentFloor(capacity - requested, capacity);
}

/** mostRequestedScore: used share of capacity, 0-100 (requests above capacity count as full). */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return percentFloor(Math.min(requested, capacity), capacity);
}

/** balancedResourceScorer: (1 - std of the requested fractions) × 100, truncated. Allocates nothing. */
export function balancedResourceScore(requested: ArrayLike<number>, allocatable: ArrayLike<number>): number {
  let n = 0;
  let total = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < requested.length; i++) {
    const alloc = allocatable[i] as number;
    if (alloc === 0) continue;
    const f = Math.min((requested[i] as number) / alloc, 1);
    if (n === 0) first = f;
    else if (n === 1) second = f;
    total += f;
    n++;
  }
  let std = 0;
  if (n === 2) std = Math.abs((first - second) / 2);
  else if (n > 2) {
    const mean = total / n;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      const alloc = allocatable[i] as number;
      if (alloc === 0) continue;
      const f = Math.min((requested[i] as number) / alloc, 1);
      sum += (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / n);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** balancedResourceScore for exactly two resources, the default cpu + memory. */
function balancedPair(r0: number, a0: number, r1: number, a1: number): number {
  if (a0 === 0 || a1 === 0) return MAX_NODE_SCORE; // one fraction or none: std 0
  const std = Math.abs((Math.min(r0 / a0, 1) - Math.min(r1 / a1, 1)) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

const CPU = 0;
const MEMORY = 1;
const EPHEMERAL = 2;
const PACKED: ReadonlyMap<string, number> = new Map([
  ["cpu", CPU],
  ["memory", MEMORY],
  ["ephemeral-storage", EPHEMERAL],
]);

/** An extended resource (nvidia.com/gpu, hugepages-2Mi …) the pod requests: read from the NodeInfo. */
interface Extended {
  readonly name: string;
  readonly want: number;
  readonly weight: number;
}

/**
 * The configured resources split into packed ones (cpu, memory, ephemeral-storage) and extended ones.
 * An extended resource the pod does not request is left out, as kube-scheduler bypasses it
 * (resource_allocation.go calculateResourceAllocatableRequest): nodes are not ranked on a GPU a pod
 * does not ask for.
 */
function splitResources(config: SchedulerConfig, pod: CompiledPod) {
  const packed: Array<{ kind: number; weight: number }> = [];
  const extended: Extended[] = [];
  for (const r of config.resources) {
    const kind = PACKED.get(r.name);
    if (kind !== undefined) packed.push({ kind, weight: r.weight });
    else {
      const want = pod.resources.scalars.get(r.name) ?? 0n;
      if (want > 0n) extended.push({ name: r.name, want: Number(want), weight: r.weight });
    }
  }
  return { packed, extended };
}

/** A node's allocatable and already requested amount of an extended resource. */
const extendedOf = (node: NodeInfo, name: string): [number, number] => [
  Number(node.allocScalars.get(name) ?? 0n),
  Number(node.reqScalars.get(name) ?? 0n),
];

const podRequested = (pod: CompiledPod, kind: number): number =>
  kind === CPU ? pod.cpu : kind === MEMORY ? pod.memory : pod.ephemeral;

// Offsets into the packed `res` record: allocatable, fit-scoring request (non-zero for cpu/memory),
// and real request, per resource kind.
const ALLOC_OFFSET = [ALLOC_CPU, ALLOC_MEMORY, ALLOC_EPHEMERAL];
const NONZERO_OFFSET = [NONZERO_CPU, NONZERO_MEMORY, REQ_EPHEMERAL];
const REQ_OFFSET = [REQ_CPU, REQ_MEMORY, REQ_EPHEMERAL];

export interface AllocationState {
  readonly res: Float64Array;
  readonly most: boolean;
  /** Per configured resource: record offsets of allocatable and requested; the pod's share; the weight. */
  readonly allocAt: readonly number[];
  readonly usedAt: readonly number[];
  readonly add: readonly number[];
  readonly weights: readonly number[];
  /** 1/Σweights when that is exact (a power of two), else 0: the usual final division becomes a multiply. */
  readonly inverseWeightSum: number;
  readonly extended: readonly Extended[];
  readonly nodes: readonly NodeInfo[];
}

export function prepareAllocation({ snapshot, pod, config }: PluginContext): AllocationState {
  // Fit scoring reads NonZeroRequested for cpu/memory (useRequested=false), real requests otherwise.
  const { packed, extended } = splitResources(config, pod);
  const kinds = packed.map((r) => r.kind);
  const weights = packed.map((r) => r.weight);
  const total = weights.reduce((a, b) => a + b, 0) + extended.reduce((a, e) => a + e.weight, 0);
  return {
    extended,
    nodes: snapshot.nodes,
    res: snapshot.columns.res,
    most: config.scoringStrategy === "MostAllocated",
    allocAt: kinds.map((kind) => ALLOC_OFFSET[kind] as number),
    usedAt: kinds.map((kind) => NONZERO_OFFSET[kind] as number),
    add: kinds.map((kind) =>
      kind === CPU ? pod.nonZeroCpu : kind === MEMORY ? pod.nonZeroMemory : pod.ephemeral,
    ),
    weights,
    inverseWeightSum: (total & (total - 1)) === 0 ? 1 / total : 0,
  };
}

export function allocationAt(s: AllocationState, i: number): number {
  const o = i * RES;
  const res = s.res;
  let score = 0;
  let weightSum = 0;
  for (let r = 0; r < s.weights.length; r++) {
    const capacity = res[o + (s.allocAt[r] as number)] as number;
    if (capacity === 0) continue;
    const requested = (res[o + (s.usedAt[r] as number)] as number) + (s.add[r] as number);
    const weight = s.weights[r] as number;
    score +=
      (s.most ? mostRequestedScore(requested, capacity) : leastRequestedScore(requested, capacity)) * weight;
    weightSum += weight;
  }
  for (const e of s.extended) {
    const [capacity, requested] = extendedOf(s.nodes[i] as NodeInfo, e.name);
    if (capacity === 0) continue;
    score += share(s.most, requested + e.want, capacity) * e.weight;
    weightSum += e.weight;
  }
  if (weightSum === 0) return 0;
  // Multiplying by an exact power-of-two reciprocal equals the integer division.
  return s.inverseWeightSum !== 0 && weightSum * s.inverseWeightSum === 1
    ? Math.floor(score * s.inverseWeightSum)
    : Math.floor(score / weightSum);
}

const share = (most: boolean, requested: number, capacity: number): number =>
  most ? mostRequestedScore(requested, capacity) : leastRequestedScore(requested, capacity);

export const resourceAllocation: ScorePlugin = {
  name: "least-allocated",
  displayName: (c) => (c.scoringStrategy === "MostAllocated" ? "most-allocated" : "least-allocated"),
  weight: (c) => c.weights.resourceAllocation,
  scoreAll(feasible, count, out, ctx) {
    const s = prepareAllocation(ctx);
    if (s.weights.length !== 2 || s.extended.length > 0)
      return scoreEach(s, allocationAt, feasible, count, out);
    // The default two resources with everything in locals: this loop runs for every feasible node.
    const { res, most, inverseWeightSum } = s;
    const [a0, a1] = s.allocAt as [number, number];
    const [u0, u1] = s.usedAt as [number, number];
    const [p0, p1] = s.add as [number, number];
    const [w0, w1] = s.weights as [number, number];
    for (let k = 0; k < count; k++) {
      const o = (feasible[k] as number) * RES;
      const c0 = res[o + a0] as number;
      const c1 = res[o + a1] as number;
      let score = 0;
      let weightSum = 0;
      if (c0 !== 0) {
        score += share(most, (res[o + u0] as number) + p0, c0) * w0;
        weightSum += w0;
      }
      if (c1 !== 0) {
        score += share(most, (res[o + u1] as number) + p1, c1) * w1;
        weightSum += w1;
      }
      out[k] =
        weightSum === 0
          ? 0
          : inverseWeightSum !== 0 && weightSum * inverseWeightSum === 1
            ? Math.floor(score * inverseWeightSum)
            : Math.floor(score / weightSum);
    }
    return true;
  },
};

export interface BalancedState {
  readonly res: Float64Array;
  readonly allocAt: readonly number[];
  readonly reqAt: readonly number[];
  readonly add: readonly number[];
  readonly scratchReq: Float64Array;
  readonly scratchAlloc: Float64Array;
  readonly extended: readonly Extended[];
  readonly nodes: readonly NodeInfo[];
}

/** undefined for a best-effort pod: PreScore Skip (kubernetes#129138), else they all pile on one node. */
export function prepareBalanced({ snapshot, pod, config }: PluginContext): BalancedState | undefined {
  const { packed, extended } = splitResources(config, pod);
  const kinds = packed.map((r) => r.kind);
  if (extended.length === 0 && kinds.every((kind) => podRequested(pod, kind) === 0)) return undefined;
  const n = kinds.length + extended.length;
  return {
    res: snapshot.columns.res,
    allocAt: kinds.map((kind) => ALLOC_OFFSET[kind] as number),
    reqAt: kinds.map((kind) => REQ_OFFSET[kind] as number),
    add: kinds.map((kind) => podRequested(pod, kind)),
    scratchReq: new Float64Array(n),
    scratchAlloc: new Float64Array(n),
    extended,
    nodes: snapshot.nodes,
  };
}

export function balancedAt(s: BalancedState, i: number): number {
  const o = i * RES;
  const res = s.res;
  if (s.allocAt.length === 2 && s.extended.length === 0) {
    return balancedPair(
      (res[o + (s.reqAt[0] as number)] as number) + (s.add[0] as number),
      res[o + (s.allocAt[0] as number)] as number,
      (res[o + (s.reqAt[1] as number)] as number) + (s.add[1] as number),
      res[o + (s.allocAt[1] as number)] as number,
    );
  }
  for (let r = 0; r < s.allocAt.length; r++) {
    s.scratchAlloc[r] = res[o + (s.allocAt[r] as number)] as number;
    s.scratchReq[r] = (res[o + (s.reqAt[r] as number)] as number) + (s.add[r] as number);
  }
  for (let e = 0, r = s.allocAt.length; e < s.extended.length; e++, r++) {
    const ext = s.extended[e] as Extended;
    const [capacity, requested] = extendedOf(s.nodes[i] as NodeInfo, ext.name);
    s.scratchAlloc[r] = capacity;
    s.scratchReq[r] = requested + ext.want;
  }
  return balancedResourceScore(s.scratchReq, s.scratchAlloc);
}

export const balancedAllocation: ScorePlugin = {
  name: "balanced-allocation",
  weight: (c) => c.weights.balancedAllocation,
  scoreAll(feasible, count, out, ctx) {
    const s = prepareBalanced(ctx);
    if (s === undefined || s.allocAt.length !== 2 || s.extended.length > 0)
      return scoreEach(s, balancedAt, feasible, count, out);
    const res = s.res;
    const [a0, a1] = s.allocAt as [number, number];
    const [q0, q1] = s.reqAt as [number, number];
    const [p0, p1] = s.add as [number, number];
    for (let k = 0; k < count; k++) {
      const o = (feasible[k] as number) * RES;
      out[k] = balancedPair(
        (res[o + q0] as number) + p0,
        res[o + a0] as number,
        (res[o + q1] as number) + p1,
        res[o + a1] as number,
      );
    }
    return true;
  },
};
