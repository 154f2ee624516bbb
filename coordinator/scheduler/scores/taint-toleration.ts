// kube-scheduler TaintToleration Score: count the PreferNoSchedule taints the pod does not tolerate
// (only tolerations with an empty or PreferNoSchedule effect count), then reverse-normalize so the
// node with the most such taints scores 0 and a node with none scores 100.
import { FLAGS, META, SOFT_TAINTS } from "../columns.ts";
import type { Toleration } from "../k8s-types.ts";
import type { PluginContext, ScorePlugin } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";
import { tolerationsTolerate } from "../taints.ts";
import { defaultNormalizeScore } from "./normalize.ts";

export interface TaintScoreState {
  readonly meta: Int32Array;
  readonly nodes: readonly NodeInfo[];
  readonly tolerations: readonly Toleration[];
}

export const prepareTaintScore = ({ snapshot, pod }: PluginContext): TaintScoreState => ({
  meta: snapshot.columns.meta,
  nodes: snapshot.nodes,
  tolerations: pod.preferTolerations,
});

export function taintScoreAt(s: TaintScoreState, i: number): number {
  if (((s.meta[i * META + FLAGS] as number) & SOFT_TAINTS) === 0) return 0;
  let n = 0;
  for (const taint of (s.nodes[i] as NodeInfo).softTaints)
    if (!tolerationsTolerate(s.tolerations, taint)) n++;
  return n;
}

export const taintTolerationScore: ScorePlugin = {
  name: "taint-toleration",
  weight: (c) => c.weights.taintToleration,
  scoreAll(feasible, count, out, ctx) {
    const s = prepareTaintScore(ctx);
    const meta = s.meta;
    for (let k = 0; k < count; k++) {
      const i = feasible[k] as number;
      out[k] = ((meta[i * META + FLAGS] as number) & SOFT_TAINTS) === 0 ? 0 : taintScoreAt(s, i);
    }
    return true;
  },
  normalize: (scores, count) => defaultNormalizeScore(scores, count, true),
};
