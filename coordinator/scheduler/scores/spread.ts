// Spreading of one app across nodes, scored like kube-scheduler's PodTopologySpread with its system
// default hostname constraint (maxSkew 3, ScheduleAnyway; scoring.go): raw = round(matching pods ×
// ln(feasible nodes + 2) + maxSkew − 1), normalized as 100 × (max + min − raw) / max, so the node with
// the fewest pods of the app scores highest. "The app" is the pod's labels under
// config.spread.labelKeys instead of the Services/ReplicaSets selector kube-scheduler derives, which
// the engine cannot see. Skipped when the pod carries none of those labels.
import { MAX_NODE_SCORE, type PluginContext, type ScorePlugin } from "../plugins.ts";
import { spreadCounts } from "../spread-index.ts";

/** scoreForCount with topologyNormalizingWeight(size) = ln(size + 2). */
export const spreadRawScore = (matching: number, feasibleNodes: number, maxSkew: number): number =>
  Math.round(matching * Math.log(feasibleNodes + 2) + (maxSkew - 1));

export function normalizeSpread(scores: Float64Array, count: number): void {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < count; i++) {
    const s = scores[i] as number;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  for (let i = 0; i < count; i++) {
    scores[i] =
      max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (scores[i] as number))) / max);
  }
}

export interface SpreadState {
  readonly counts: Int32Array;
  /** topologyNormalizingWeight(feasible nodes). */
  readonly weight: number;
  readonly offset: number;
}

export function prepareSpread(
  { pod, snapshot, config }: PluginContext,
  feasibleCount: number,
): SpreadState | undefined {
  // A pod with its own topologySpreadConstraints is spread by them only (scores/topology-spread.ts).
  if (pod.spreadEntries.length === 0 || pod.spreadConstraints.length > 0) return undefined;
  return {
    counts: spreadCounts(snapshot, pod.namespace, pod.spreadEntries),
    weight: Math.log(feasibleCount + 2),
    offset: config.spread.maxSkew - 1,
  };
}

export const spreadScore: ScorePlugin = {
  name: "spread",
  weight: (c) => c.weights.spread,
  scoreAll(feasible, count, out, ctx) {
    const s = prepareSpread(ctx, count);
    if (s === undefined) return false;
    const { counts, weight, offset } = s;
    for (let k = 0; k < count; k++)
      out[k] = Math.round((counts[feasible[k] as number] as number) * weight + offset);
    return true;
  },
  normalize: normalizeSpread,
};
