// Spreading of one app across nodes and zones, scored like kube-scheduler's PodTopologySpread with its
// system default constraints (ScheduleAnyway; scoring.go): hostname with maxSkew 3 and
// topology.kubernetes.io/zone with maxSkew 5. raw = round(Σ matching pods in the node's domain ×
// ln(domains + 2) + maxSkew − 1) over the constraints whose key the node has (system defaults ignore a
// missing key), normalized as 100 × (max + min − raw) / max, so the node with the fewest pods of the app
// around it scores highest. Zone counts include only nodes that match the pod's node selector/affinity
// (nodeAffinityPolicy Honor), in zones of feasible nodes. "The app" is the pod's labels under
// config.spread.labelKeys instead of the Services/ReplicaSets selector kube-scheduler derives, which
// the engine cannot see. Skipped when the pod carries none of those labels, or has its own
// topologySpreadConstraints (scores/topology-spread.ts).
import { affinityAt, prepareAffinity } from "../filters/node-affinity.ts";
import { MAX_NODE_SCORE, type PluginContext, type ScorePlugin } from "../plugins.ts";
import { labelColumn } from "../snapshot.ts";
import { spreadCounts } from "../spread-index.ts";

export const LABEL_ZONE = "topology.kubernetes.io/zone";
/** kube-scheduler's system default zone constraint. */
export const ZONE_MAX_SKEW = 5;

interface ZoneState {
  readonly ids: Int32Array;
  /** Matching pods per zone (only zones of feasible nodes are used). */
  readonly domains: Float64Array;
  readonly weight: number;
}

function prepareZone(
  ctx: PluginContext,
  counts: Int32Array,
  feasible: Int32Array,
  count: number,
): ZoneState | undefined {
  const column = labelColumn(ctx.snapshot, LABEL_ZONE);
  if (column.valueIds.size === 0) return undefined;
  const ids = column.ids;
  const domains = new Float64Array(column.valueIds.size).fill(-1);
  let size = 0;
  for (let k = 0; k < count; k++) {
    const id = ids[feasible[k] as number] as number;
    if (id >= 0 && domains[id] === -1) {
      domains[id] = 0;
      size++;
    }
  }
  if (size === 0) return undefined;
  const affinity = prepareAffinity(ctx);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0 || (domains[id] as number) < 0 || (counts[i] as number) === 0) continue;
    if (affinity !== null && affinityAt(affinity, i) !== null) continue;
    domains[id] = (domains[id] as number) + (counts[i] as number);
  }
  return { ids, domains, weight: Math.log(size + 2) };
}

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
    const zone = prepareZone(ctx, counts, feasible, count);
    if (zone === undefined) {
      for (let k = 0; k < count; k++)
        out[k] = Math.round((counts[feasible[k] as number] as number) * weight + offset);
      return true;
    }
    const { ids, domains } = zone;
    for (let k = 0; k < count; k++) {
      const i = feasible[k] as number;
      const id = ids[i] as number;
      let raw = (counts[i] as number) * weight + offset;
      if (id >= 0) raw += (domains[id] as number) * zone.weight + (ZONE_MAX_SKEW - 1);
      out[k] = Math.round(raw);
    }
    return true;
  },
  normalize: normalizeSpread,
};
