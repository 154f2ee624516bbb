// kube-scheduler NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate
// node.kubernetes.io/unschedulable:NoSchedule.
import { FLAGS, META, UNSCHEDULABLE } from "../columns.ts";
import { defineFilter } from "../plugins.ts";

export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";

/** The meta records; null (skip) when the pod tolerates the unschedulable taint. */
export const nodeUnschedulable = defineFilter<Int32Array>({
  name: "NodeUnschedulable",
  prepare: (ctx) => (ctx.pod.toleratesUnschedulable ? null : ctx.snapshot.columns.meta),
  at: (meta, i) =>
    ((meta[i * META + FLAGS] as number) & UNSCHEDULABLE) === 0 ? null : ERR_REASON_UNSCHEDULABLE,
});
