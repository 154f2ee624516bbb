// kube-scheduler PodTopologySpread Score (podtopologyspread/scoring.go) for the pod's ScheduleAnyway
// constraints. Feasible nodes lacking a constraint's key are ignored (score 0). A domain counts the
// matching pods on every node that has all keys, passes the inclusion policies, and shares its value
// with a feasible node; a hostname constraint counts the node's own pods. Raw score:
// round(Σ count × ln(domains + 2) + maxSkew − 1); normalized so fewer matching pods score higher.
import { matchingCounts } from "../affinity-index.ts";
import { hasAllKeys, included, prepareInclusion } from "../filters/topology-spread.ts";
import { LABEL_HOSTNAME } from "../k8s-types.ts";
import { MAX_NODE_SCORE, type ScorePlugin } from "../plugins.ts";
import { labelColumn } from "../snapshot.ts";

export const podTopologySpreadScore: ScorePlugin = {
  name: "topology-spread",
  weight: (c) => c.weights.spread,
  scoreAll(feasible, count, out, ctx) {
    const soft = ctx.pod.spreadConstraints.filter((c) => !c.hard);
    if (soft.length === 0 || count === 0) return false;
    const { snapshot } = ctx;
    const inc = prepareInclusion(ctx, soft);
    const n = snapshot.nodes.length;
    const ignored = new Uint8Array(count);
    let ignoredCount = 0;
    for (let k = 0; k < count; k++) {
      if (!hasAllKeys(inc, feasible[k] as number)) {
        ignored[k] = 1;
        ignoredCount++;
      }
    }
    const per = soft.map((c, j) => {
      const ids = inc.keys[j] as Int32Array;
      const counts = matchingCounts(snapshot, [c.term], true);
      if (c.topologyKey === LABEL_HOSTNAME)
        return { c, ids, counts, domains: undefined, weight: Math.log(count - ignoredCount + 2) };
      const domains = new Float64Array(labelColumn(snapshot, c.topologyKey).valueIds.size).fill(-1);
      let size = 0;
      for (let k = 0; k < count; k++) {
        if (ignored[k] === 1) continue;
        const id = ids[feasible[k] as number] as number;
        if (domains[id] === -1) {
          domains[id] = 0;
          size++;
        }
      }
      for (let i = 0; i < n; i++) {
        if (!hasAllKeys(inc, i) || !included(inc, c, i)) continue;
        const id = ids[i] as number;
        if ((domains[id] as number) >= 0) domains[id] = (domains[id] as number) + (counts[i] as number);
      }
      return { c, ids, counts, domains, weight: Math.log(size + 2) };
    });
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let k = 0; k < count; k++) {
      if (ignored[k] === 1) continue;
      const i = feasible[k] as number;
      let score = 0;
      for (const p of per) {
        const cnt =
          p.domains === undefined ? (p.counts[i] as number) : (p.domains[p.ids[i] as number] as number);
        score += cnt * p.weight + (p.c.maxSkew - 1);
      }
      const raw = Math.round(score);
      out[k] = raw;
      if (raw < min) min = raw;
      if (raw > max) max = raw;
    }
    // NormalizeScore, with ignored nodes at 0.
    for (let k = 0; k < count; k++) {
      if (ignored[k] === 1) out[k] = 0;
      else
        out[k] =
          max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (out[k] as number))) / max);
    }
    return true;
  },
};
