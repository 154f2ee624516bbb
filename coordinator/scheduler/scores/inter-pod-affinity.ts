// kube-scheduler InterPodAffinity Score (scoring.go). PreScore sums, per topology domain, for every
// existing pod: + weight of each preferred affinity term of the incoming pod it matches, − weight of
// each preferred anti-affinity term it matches, and, for its own terms the incoming pod matches,
// + hardPodAffinityWeight per required affinity term, + weight per preferred affinity term, − weight per
// preferred anti-affinity term. A node scores the sum over its topology labels; NormalizeScore maps
// [min, max] to [0, 100] (all 0 when equal). Skipped when nothing contributed.
import {
  candidateGroups,
  matchingCounts,
  PREFERRED_ANTI_AFFINITY,
  REQUIRED_AFFINITY,
} from "../affinity-index.ts";
import { MAX_NODE_SCORE, type PluginContext, type ScorePlugin } from "../plugins.ts";
import { type CompiledAffinityTerm, termMatches } from "../pod-affinity.ts";
import { labelColumn } from "../snapshot.ts";

interface TopologyScore {
  readonly ids: Int32Array;
  readonly values: Float64Array;
}

/** Per topology key, the score of each domain; undefined when no term contributed (PreScore Skip). */
export function prepareInterPodScore({ pod, snapshot, config }: PluginContext): TopologyScore[] | undefined {
  const byKey = new Map<string, TopologyScore>();
  const scoreOf = (key: string): TopologyScore => {
    let t = byKey.get(key);
    if (t === undefined) {
      const column = labelColumn(snapshot, key);
      t = { ids: column.ids, values: new Float64Array(column.valueIds.size) };
      byKey.set(key, t);
    }
    return t;
  };
  let touched = false;
  const a = pod.affinity;
  const incoming = (terms: readonly CompiledAffinityTerm[], sign: number): void => {
    for (const term of terms) {
      const counts = matchingCounts(snapshot, [term]);
      const t = scoreOf(term.topologyKey);
      const w = sign * term.weight;
      for (let i = 0; i < counts.length; i++) {
        const c = counts[i] as number;
        if (c === 0) continue;
        const id = t.ids[i] as number;
        if (id < 0) continue;
        t.values[id] = (t.values[id] as number) + w * c;
        touched = true;
      }
    }
  };
  if (a !== undefined) {
    incoming(a.preferredAffinity, 1);
    incoming(a.preferredAntiAffinity, -1);
  }
  const hard = config.interPodAffinity.hardPodAffinityWeight;
  candidateGroups(snapshot.affinityIndex.scoring, pod.labels, (group) => {
    const term = group.term;
    let w: number;
    if (group.kind === REQUIRED_AFFINITY) {
      if (hard === 0) return;
      w = hard;
    } else w = group.kind === PREFERRED_ANTI_AFFINITY ? -term.weight : term.weight;
    if (!termMatches(term, pod)) return;
    const t = scoreOf(term.topologyKey);
    for (const [node, c] of group.nodes) {
      const id = t.ids[node] as number;
      if (id < 0) continue;
      t.values[id] = (t.values[id] as number) + w * c;
      touched = true;
    }
  });
  return touched ? [...byKey.values()] : undefined;
}

export function normalizeInterPod(scores: Float64Array, count: number): void {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const s = scores[k] as number;
    if (s > max) max = s;
    if (s < min) min = s;
  }
  const diff = max - min;
  for (let k = 0; k < count; k++)
    scores[k] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * (((scores[k] as number) - min) / diff)) : 0;
}

export const interPodAffinityScore: ScorePlugin = {
  name: "inter-pod-affinity",
  weight: (c) => c.weights.interPodAffinity,
  scoreAll(feasible, count, out, ctx) {
    const topology = prepareInterPodScore(ctx);
    if (topology === undefined) return false;
    for (let k = 0; k < count; k++) {
      const i = feasible[k] as number;
      let s = 0;
      for (const t of topology) {
        const id = t.ids[i] as number;
        if (id >= 0) s += t.values[id] as number;
      }
      out[k] = s;
    }
    return true;
  },
  normalize: normalizeInterPod,
};
