// kube-scheduler NodeName: a pod that names its node (spec.nodeName) fits only there.
import { defineFilter } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

interface NodeNameState {
  readonly nodes: readonly NodeInfo[];
  readonly wanted: string;
}

export const nodeName = defineFilter<NodeNameState>({
  name: "NodeName",
  prepare: (ctx) =>
    ctx.pod.nodeName === undefined ? null : { nodes: ctx.snapshot.nodes, wanted: ctx.pod.nodeName },
  at: (s, i) => ((s.nodes[i] as NodeInfo).name === s.wanted ? null : ERR_REASON_NODE_NAME),
});
