// kube-scheduler TaintToleration Filter: the first NoSchedule/NoExecute taint (in node order) that no
// toleration tolerates rejects the node. A NotReady node carries the not-ready/unreachable taint the
// node lifecycle controller adds (snapshot.ts), so it is rejected here in kube-scheduler's own words.
import { FLAGS, HARD_TAINTS, META } from "../columns.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";
import { findUntoleratedTaint } from "../taints.ts";

/** On the NodeInfo: the pod's tolerations against the node's hard taints. */
const untolerated = (node: NodeInfo, { pod }: PluginContext): string | null =>
  node.hardTaints.length === 0
    ? null
    : (findUntoleratedTaint(node.hardTaints, pod.tolerations)?.reason ?? null);

export interface TaintState {
  readonly ctx: PluginContext;
  readonly meta: Int32Array;
  readonly firstTaintReason: readonly string[];
  /** Without tolerations the first hard taint is the untolerated one. */
  readonly tolerates: boolean;
}

export const prepareTaints = (ctx: PluginContext): TaintState => ({
  ctx,
  meta: ctx.snapshot.columns.meta,
  firstTaintReason: ctx.snapshot.columns.firstTaintReason,
  tolerates: ctx.pod.tolerations.length > 0,
});

export function taintAt(s: TaintState, i: number): string | null {
  if (((s.meta[i * META + FLAGS] as number) & HARD_TAINTS) === 0) return null;
  return s.tolerates
    ? untolerated(s.ctx.snapshot.nodes[i] as NodeInfo, s.ctx)
    : (s.firstTaintReason[i] as string);
}

export const taintToleration = defineFilter({ name: "TaintToleration", prepare: prepareTaints, at: taintAt });
