// kube-scheduler NodeResourcesFit Filter (fit.go fitsRequest): pod count, then cpu, memory,
// ephemeral storage and each extended resource against allocatable minus the requests already on the
// node. Every shortfall is reported, as kube-scheduler does.
import {
  ALLOC_CPU,
  ALLOC_EPHEMERAL,
  ALLOC_MEMORY,
  ALLOWED_PODS,
  FLAGS,
  META,
  POD_COUNT,
  REQ_CPU,
  REQ_EPHEMERAL,
  REQ_MEMORY,
  RES,
  SAFE,
} from "../columns.ts";
import { defineFilter, type FilterResult, type PluginContext } from "../plugins.ts";
import type { CompiledPod } from "../pod.ts";
import type { NodeInfo } from "../snapshot.ts";

export const REASON_TOO_MANY_PODS = "Too many pods";
export const REASON_CPU = "Insufficient cpu";
export const REASON_MEMORY = "Insufficient memory";
export const REASON_EPHEMERAL = "Insufficient ephemeral-storage";

const TOO_MANY = 1;
const CPU = 2;
const MEMORY = 4;
const EPHEMERAL = 8;

// Every combination of the four fixed reasons as one shared, frozen value, so a rejection allocates nothing.
const COMBINATIONS: readonly FilterResult[] = Array.from({ length: 16 }, (_, flags) => {
  const reasons: string[] = [];
  if (flags & TOO_MANY) reasons.push(REASON_TOO_MANY_PODS);
  if (flags & CPU) reasons.push(REASON_CPU);
  if (flags & MEMORY) reasons.push(REASON_MEMORY);
  if (flags & EPHEMERAL) reasons.push(REASON_EPHEMERAL);
  return reasons.length === 0 ? null : reasons.length === 1 ? (reasons[0] as string) : Object.freeze(reasons);
});

// Exact integers when both sides are safe; bigints otherwise.
function shortFlags(node: NodeInfo, pod: CompiledPod): number {
  let flags = 0;
  if (node.safe && pod.safe) {
    if (pod.cpu > 0 && pod.cpu > node.allocCpu - node.reqCpu) flags |= CPU;
    if (pod.memory > 0 && pod.memory > node.allocMemory - node.reqMemory) flags |= MEMORY;
    if (pod.ephemeral > 0 && pod.ephemeral > node.allocEphemeral - node.reqEphemeral) flags |= EPHEMERAL;
  } else {
    const r = pod.resources;
    const e = node.exact;
    if (r.cpu > 0n && r.cpu > e.allocCpu - e.reqCpu) flags |= CPU;
    if (r.memory > 0n && r.memory > e.allocMemory - e.reqMemory) flags |= MEMORY;
    if (r.ephemeralStorage > 0n && r.ephemeralStorage > e.allocEphemeral - e.reqEphemeral) flags |= EPHEMERAL;
  }
  return flags;
}

/** On the NodeInfo, in exact numbers and with extended resources: the path for anything unusual. */
function fitsExactly(node: NodeInfo, { pod }: PluginContext): FilterResult {
  const tooMany = node.pods.length + 1 > node.allowedPods ? TOO_MANY : 0;
  if (pod.requestsNothing) return COMBINATIONS[tooMany] as FilterResult;
  const fixed = COMBINATIONS[tooMany | shortFlags(node, pod)] as FilterResult;
  if (pod.resources.scalars.size === 0) return fixed;
  const reasons: string[] = fixed === null ? [] : typeof fixed === "string" ? [fixed] : [...fixed];
  for (const [name, want] of pod.resources.scalars) {
    if (want === 0n) continue;
    if (want > (node.allocScalars.get(name) ?? 0n) - (node.reqScalars.get(name) ?? 0n))
      reasons.push(`Insufficient ${name}`);
  }
  return reasons.length === 0 ? null : reasons.length === 1 ? (reasons[0] as string) : reasons;
}

export interface FitState {
  readonly ctx: PluginContext;
  readonly res: Float64Array;
  readonly meta: Int32Array;
  /** The usual pod (exact numbers, no extended resources) is checked on the packed records. */
  readonly fast: boolean;
  readonly nothing: boolean;
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeral: number;
}

export const prepareFit = (ctx: PluginContext): FitState => ({
  ctx,
  res: ctx.snapshot.columns.res,
  meta: ctx.snapshot.columns.meta,
  fast: ctx.pod.safe && ctx.pod.resources.scalars.size === 0,
  nothing: ctx.pod.requestsNothing,
  cpu: ctx.pod.cpu,
  memory: ctx.pod.memory,
  ephemeral: ctx.pod.ephemeral,
});

/** The usual pod on the packed records; anything unusual goes through fitsExactly(). */
export function fitAt(s: FitState, i: number): FilterResult {
  const m = i * META;
  const meta = s.meta;
  if (!s.fast || ((meta[m + FLAGS] as number) & SAFE) === 0)
    return fitsExactly(s.ctx.snapshot.nodes[i] as NodeInfo, s.ctx);
  let flags = (meta[m + POD_COUNT] as number) + 1 > (meta[m + ALLOWED_PODS] as number) ? TOO_MANY : 0;
  if (!s.nothing) {
    const res = s.res;
    const o = i * RES;
    if (s.cpu > 0 && s.cpu > (res[o + ALLOC_CPU] as number) - (res[o + REQ_CPU] as number)) flags |= CPU;
    if (s.memory > 0 && s.memory > (res[o + ALLOC_MEMORY] as number) - (res[o + REQ_MEMORY] as number))
      flags |= MEMORY;
    if (
      s.ephemeral > 0 &&
      s.ephemeral > (res[o + ALLOC_EPHEMERAL] as number) - (res[o + REQ_EPHEMERAL] as number)
    )
      flags |= EPHEMERAL;
  }
  return COMBINATIONS[flags] as FilterResult;
}

export const nodeResourcesFit = defineFilter({ name: "NodeResourcesFit", prepare: prepareFit, at: fitAt });
