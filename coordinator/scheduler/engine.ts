// One scheduling decision, kube-scheduler style: filter every node (first failing filter wins, in
// kube-scheduler's plugin order, then ours), score every feasible node with each enabled plugin
// (raw score, normalize, × weight), pick the best. Pure: snapshot + pod + config + now in, data out.
//
// Ties (equal weighted sums) are broken deterministically, where kube-scheduler picks at random:
// fewer pods on the node first (spreads a burst), then node name in ascending code-point order.
import { META, NAME_RANK, POD_COUNT } from "./columns.ts";
import type { SchedulerConfig } from "./config.ts";
import { fitErrorMessage, NO_NODES_MESSAGE, preFilterFitErrorMessage, scheduledMessage } from "./explain.ts";
import { nodeResourcesFit } from "./filters/fit.ts";
import { interPodAffinity } from "./filters/inter-pod-affinity.ts";
import { agentTelemetry, livePressure } from "./filters/live.ts";
import {
  ERR_REASON_AFFINITY_CONFLICT,
  ERR_REASON_PREFILTER_NODE_AFFINITY,
  nodeAffinity,
} from "./filters/node-affinity.ts";
import { nodeName } from "./filters/node-name.ts";
import { nodePorts } from "./filters/node-ports.ts";
import { nodeUnschedulable } from "./filters/node-unschedulable.ts";
import { taintToleration } from "./filters/taint-toleration.ts";
import { podTopologySpread } from "./filters/topology-spread.ts";
import { filterFused } from "./fused.ts";
import type { Pod } from "./k8s-types.ts";
import type { DefinedFilter, FilterPlugin, PluginContext, Reject, ScorePlugin } from "./plugins.ts";
import { compilePod } from "./pod.ts";
import { interPodAffinityScore } from "./scores/inter-pod-affinity.ts";
import { liveLoadPlugin } from "./scores/live-load.ts";
import { nodeAffinityScore } from "./scores/node-affinity.ts";
import { balancedAllocation, resourceAllocation } from "./scores/resource-allocation.ts";
import { spreadScore } from "./scores/spread.ts";
import { taintTolerationScore } from "./scores/taint-toleration.ts";
import { podTopologySpreadScore } from "./scores/topology-spread.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";
import { unsupportedFields, unsupportedMessage } from "./unsupported.ts";

/** Decision.rejections[].filter for a pod refused because it sets a field the engine does not honour. */
export const UNSUPPORTED_FILTER = "Unsupported";

export interface Rejection {
  readonly node: string;
  /** The filter plugin that rejected the node (kube-scheduler's plugin name, or ours). */
  readonly filter: string;
  /** Its reason; several reasons (e.g. cpu and memory) are joined with ", ". */
  readonly reason: string;
}

export interface PluginScore {
  readonly plugin: string;
  /** Normalized score, 0-100. */
  readonly score: number;
  readonly weight: number;
}

export interface Decision {
  readonly status: "scheduled" | "unschedulable";
  readonly node?: string;
  /** Weighted mean of the plugin scores (0-100, rounded to 0.01); ranking uses the exact weighted sum. */
  readonly score?: number;
  readonly scores?: readonly PluginScore[];
  readonly runnerUp?: { readonly node: string; readonly score: number };
  readonly rejections: readonly Rejection[];
  readonly message: string;
  readonly feasible: number;
  readonly total: number;
}

export interface Plugins {
  readonly filters: readonly FilterPlugin[];
  readonly scores: readonly ScorePlugin[];
}

/**
 * kube-scheduler's filter order (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts,
 * NodeResourcesFit, PodTopologySpread, InterPodAffinity), then ours.
 */
export const DEFAULT_PLUGINS: Plugins = Object.freeze({
  filters: Object.freeze([
    nodeUnschedulable,
    nodeName,
    taintToleration,
    nodeAffinity,
    nodePorts,
    nodeResourcesFit,
    podTopologySpread,
    interPodAffinity,
    agentTelemetry,
    livePressure,
  ]),
  scores: Object.freeze([
    resourceAllocation,
    balancedAllocation,
    taintTolerationScore,
    nodeAffinityScore,
    interPodAffinityScore,
    spreadScore,
    podTopologySpreadScore,
    liveLoadPlugin,
  ]),
});

// Reused buffers per snapshot (and per plugin count): a decision allocates no per-node arrays.
interface Workspace {
  readonly candidates: Int32Array;
  readonly totals: Float64Array;
  readonly columns: Float64Array[];
  /** Per node: index of the filter that rejected it in this decision, -1 when it passed. */
  readonly rejectedBy: Int16Array;
  readonly reasons: Array<string | readonly string[] | undefined>;
  /** The filter now running (plugin path); `reject` reads it. */
  by: number;
  /** One Reject per workspace, not per decision: a new closure each time would deoptimize every filter loop. */
  readonly reject: Reject;
}
const workspaces = new WeakMap<Snapshot, Workspace>();

function workspace(snapshot: Snapshot, plugins: number): Workspace {
  const n = snapshot.nodes.length;
  let ws = workspaces.get(snapshot);
  if (ws === undefined || ws.candidates.length !== n) {
    const rejectedBy = new Int16Array(n);
    const reasons: Workspace["reasons"] = new Array(n).fill(undefined);
    const created: Workspace = {
      candidates: new Int32Array(n),
      totals: new Float64Array(n),
      columns: [],
      rejectedBy,
      reasons,
      by: 0,
      reject: (i, r) => {
        rejectedBy[i] = created.by;
        reasons[i] = r;
      },
    };
    ws = created;
    workspaces.set(snapshot, ws);
  }
  while (ws.columns.length < plugins) ws.columns.push(new Float64Array(n));
  return ws;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

const isDefined = (f: FilterPlugin): f is DefinedFilter<unknown> => "prepare" in f && "at" in f;

/** Runs the filters; leaves the feasible node indexes in ws.candidates and returns how many. */
function filterNodes(ctx: PluginContext, plugins: Plugins, ws: Workspace): number {
  const { candidates, rejectedBy, reasons, reject } = ws;
  const nodes = ctx.snapshot.nodes;
  const filters = plugins.filters;
  rejectedBy.fill(-1);
  ws.by = filters.length; // the NodeAffinity PreFilter, reported after the real filters' indexes
  let count = 0;
  const names = ctx.pod.nodeNames;
  for (let i = 0; i < nodes.length; i++) {
    if (names === undefined || names.has((nodes[i] as NodeInfo).name)) candidates[count++] = i;
    else reject(i, ERR_REASON_PREFILTER_NODE_AFFINITY);
  }
  // Filters written as definitions (defineFilter, filterPlugin) run fused (fused.ts); a set with a
  // hand-written FilterPlugin runs plugin by plugin.
  if (filters.every(isDefined)) return filterFused(filters, candidates, count, ctx, rejectedBy, reasons);
  for (let f = 0; f < filters.length && count > 0; f++) {
    ws.by = f;
    count = (filters[f] as FilterPlugin).filterAll(candidates, count, ctx, reject);
  }
  return count;
}

/** One Rejection per rejected node, in node order; with `counts`, also the FitError histogram. */
function collectRejections(
  ctx: PluginContext,
  plugins: Plugins,
  ws: Workspace,
  rejected: number,
  counts: Map<string, number> | undefined,
): Rejection[] {
  const { rejectedBy, reasons } = ws;
  const rejections: Rejection[] = new Array(rejected);
  const filterNames = plugins.filters.map((f) => f.name);
  const nodeNames = ctx.snapshot.columns.names;
  for (let i = 0, j = 0; i < nodeNames.length; i++) {
    const f = rejectedBy[i] as number;
    if (f < 0) continue;
    const r = reasons[i] as string | readonly string[];
    rejections[j++] = {
      node: nodeNames[i] as string,
      filter: f < filterNames.length ? (filterNames[f] as string) : "NodeAffinity",
      reason: typeof r === "string" ? r : r.join(", "),
    };
    if (counts !== undefined) {
      for (const reason of typeof r === "string" ? [r] : r) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
  }
  return rejections;
}

interface Scored {
  readonly name: string;
  readonly weight: number;
  readonly column: Float64Array;
}

/** Raw score, normalize, × weight, summed into ws.totals; returns the plugins that scored. */
function scoreNodes(ctx: PluginContext, plugins: Plugins, ws: Workspace, count: number): Scored[] {
  const { candidates, totals, columns } = ws;
  totals.fill(0, 0, count);
  const active: Scored[] = [];
  for (let p = 0; p < plugins.scores.length; p++) {
    const plugin = plugins.scores[p] as ScorePlugin;
    const weight = plugin.weight(ctx.config);
    if (weight === 0) continue;
    const column = columns[p] as Float64Array;
    if (!plugin.scoreAll(candidates, count, column, ctx)) continue;
    plugin.normalize?.(column, count);
    for (let k = 0; k < count; k++) totals[k] = (totals[k] as number) + (column[k] as number) * weight;
    active.push({ name: plugin.displayName?.(ctx.config) ?? plugin.name, weight, column });
  }
  return active;
}

/** Positions (into ws.candidates) of the best and second-best node; second is -1 with one feasible node. */
function pickBest(snapshot: Snapshot, ws: Workspace, count: number): [number, number] {
  const { candidates, totals } = ws;
  const meta = snapshot.columns.meta;
  // a ranks before b: higher weighted sum, then fewer pods, then name ascending (precomputed rank).
  const before = (a: number, b: number): boolean => {
    const ta = totals[a] as number;
    const tb = totals[b] as number;
    if (ta !== tb) return ta > tb;
    const na = (candidates[a] as number) * META;
    const nb = (candidates[b] as number) * META;
    const pa = meta[na + POD_COUNT] as number;
    const pb = meta[nb + POD_COUNT] as number;
    if (pa !== pb) return pa < pb;
    return (meta[na + NAME_RANK] as number) < (meta[nb + NAME_RANK] as number);
  };
  let best = 0;
  let second = -1;
  for (let k = 1; k < count; k++) {
    if (before(k, best)) {
      second = best;
      best = k;
    } else if (second === -1 || before(k, second)) {
      second = k;
    }
  }
  return [best, second];
}

/**
 * Decides where `pod` goes. `now` (ms) ages telemetry and dates assumed pods; nothing reads a clock.
 * Throws QuantityError when the pod's own quantities are invalid, PodSpecError for an invalid pod affinity selector.
 */
export function schedule(
  snapshot: Snapshot,
  pod: Pod,
  config: SchedulerConfig,
  now: number,
  plugins: Plugins = DEFAULT_PLUGINS,
): Decision {
  const compiled = compilePod(pod, config);
  const nodes = snapshot.nodes;
  const total = nodes.length;
  if (total === 0)
    return { status: "unschedulable", rejections: [], message: NO_NODES_MESSAGE, feasible: 0, total };
  const unsupported = unsupportedFields(pod);
  if (unsupported.length > 0) {
    const reason = unsupportedMessage(unsupported);
    const rejections = nodes.map((n) => ({ node: n.name, filter: UNSUPPORTED_FILTER, reason }));
    return {
      status: "unschedulable",
      rejections,
      message: preFilterFitErrorMessage(total, reason),
      feasible: 0,
      total,
    };
  }
  if (compiled.nodeNames !== undefined && compiled.nodeNames.size === 0) {
    const rejections = nodes.map((n) => ({
      node: n.name,
      filter: "NodeAffinity",
      reason: ERR_REASON_AFFINITY_CONFLICT,
    }));
    const message = preFilterFitErrorMessage(total, ERR_REASON_AFFINITY_CONFLICT);
    return { status: "unschedulable", rejections, message, feasible: 0, total };
  }

  const ctx: PluginContext = { snapshot, pod: compiled, config, now };
  const ws = workspace(snapshot, plugins.scores.length);
  const count = filterNodes(ctx, plugins, ws);
  if (count === 0) {
    const counts = new Map<string, number>();
    const rejections = collectRejections(ctx, plugins, ws, total, counts);
    return {
      status: "unschedulable",
      rejections,
      message: fitErrorMessage(total, counts),
      feasible: 0,
      total,
    };
  }
  const rejections = collectRejections(ctx, plugins, ws, total - count, undefined);
  const active = scoreNodes(ctx, plugins, ws, count);
  const [best, second] = pickBest(snapshot, ws, count);

  const { candidates, totals } = ws;
  const weightSum = active.reduce((sum, a) => sum + a.weight, 0);
  const mean = (k: number): number => (weightSum === 0 ? 0 : round2((totals[k] as number) / weightSum));
  const chosen = nodes[candidates[best] as number] as NodeInfo;
  const scores: PluginScore[] = active.map((a) => ({
    plugin: a.name,
    score: a.column[best] as number,
    weight: a.weight,
  }));
  let runnerUp: { node: string; score: number } | undefined;
  let tie: string | undefined;
  if (second >= 0) {
    const other = nodes[candidates[second] as number] as NodeInfo;
    runnerUp = { node: other.name, score: mean(second) };
    if (totals[second] === totals[best])
      tie = chosen.pods.length !== other.pods.length ? "fewer pods" : "node name";
  }
  const score = mean(best);
  return {
    status: "scheduled",
    node: chosen.name,
    score,
    scores,
    ...(runnerUp === undefined ? {} : { runnerUp }),
    rejections,
    message: scheduledMessage(
      chosen.name,
      score,
      scores,
      runnerUp && { ...runnerUp, ...(tie ? { tie } : {}) },
    ),
    feasible: count,
    total,
  };
}
