// kube-scheduler NodeName: a pod that names its node (spec.nodeName) fits only there.
import type { FilterPlugin, PluginContext } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

export interface NodeNameState {
  readonly nodes: readonly NodeInfo[];
  readonly wanted: string;
}

export const prepareNodeName = (ctx: PluginContext): NodeNameState | null =>
  ctx.pod.nodeName === undefined ? null : { nodes: ctx.snapshot.nodes, wanted: ctx.pod.nodeName };

export const nodeNameAt = (s: NodeNameState, i: number): string | null =>
  (s.nodes[i] as NodeInfo).name === s.wanted ? null : ERR_REASON_NODE_NAME;

export const nodeName: FilterPlugin = {
  name: "NodeName",
  check: (node: NodeInfo, { pod }: PluginContext) =>
    pod.nodeName !== undefined && pod.nodeName !== node.name ? ERR_REASON_NODE_NAME : null,
  filterAll(candidates, count, ctx, reject) {
    const s = prepareNodeName(ctx);
    if (s === null) return count;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const i = candidates[k] as number;
      const r = nodeNameAt(s, i);
      if (r === null) candidates[kept++] = i;
      else reject(i, r);
    }
    return kept;
  },
};
