// kube-scheduler NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate
// node.kubernetes.io/unschedulable:NoSchedule.
import { FLAGS, META, UNSCHEDULABLE } from "../columns.ts";
import type { FilterPlugin, PluginContext } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";

export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";

/** Per-decision state of the node kernel; null when the filter cannot reject anything for this pod. */
export type UnschedulableState = Int32Array | null;

export const prepareUnschedulable = (ctx: PluginContext): UnschedulableState =>
  ctx.pod.toleratesUnschedulable ? null : ctx.snapshot.columns.meta;

export const unschedulableAt = (meta: Int32Array, i: number): string | null =>
  ((meta[i * META + FLAGS] as number) & UNSCHEDULABLE) === 0 ? null : ERR_REASON_UNSCHEDULABLE;

export const nodeUnschedulable: FilterPlugin = {
  name: "NodeUnschedulable",
  check: (node: NodeInfo, { pod }: PluginContext) =>
    node.unschedulable && !pod.toleratesUnschedulable ? ERR_REASON_UNSCHEDULABLE : null,
  filterAll(candidates, count, ctx, reject) {
    const s = prepareUnschedulable(ctx);
    if (s === null) return count;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = candidates[k] as number;
      const r = unschedulableAt(s, i);
      if (r === null) candidates[kept++] = i;
      else reject(i, r);
    }
    return kept;
  },
};
