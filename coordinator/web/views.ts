// JSON shapes the web view's API answers with, built from the coordinator's parts. Pure.
import type { SchedulingSummary } from "../../proto/index.ts";
import type { DecisionRecord } from "../placement/analytics.ts";

export interface DecisionView {
  id: number;
  at: number;
  source: string;
  pod: string;
  requestId: string;
  status: string;
  node: string;
  score: number;
  /** Per-plugin scores of the chosen node: 0–100 before weighting. */
  scores: Array<{ plugin: string; score: number; weight: number }>;
  /** Unschedulable: the distinct filter reasons; rejected or error: the reason given. */
  reasons: string[];
  /** The second-best node and its per-plugin scores; null when none (one feasible node, or not placed). */
  runnerUp: {
    node: string;
    score: number;
    scores: Array<{ plugin: string; score: number; weight: number }>;
  } | null;
  /** The decision's message: kube-scheduler's "0/N nodes are available: …" when nothing fits; "" when none kept. */
  message: string;
  /** Unschedulable: per-node filter reasons (first nodes in full, the rest counted per reason); null when none kept. */
  rejections: {
    total: number;
    nodes: Array<{ node: string; filter: string; reason: string }>;
    more: Array<[reason: string, nodes: number]>;
  } | null;
  latencyMs: number;
  advisory: boolean;
  dryRun: boolean;
  running: boolean;
}

export interface SummaryView {
  decisions: number;
  scheduled: number;
  unschedulable: number;
  rejected: number;
  errors: number;
  reachedRunning: number;
  placementsPerNode: Record<string, number>;
  unschedulableReasons: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface PodView {
  namespace: string;
  name: string;
  phase: string;
}

export function decisionView(r: DecisionRecord): DecisionView {
  return {
    id: r.id,
    at: r.at,
    source: r.source,
    pod: r.pod,
    requestId: r.requestId,
    status: r.status,
    node: r.node,
    score: r.score,
    scores: r.scores.map((s) => ({ plugin: s.plugin, score: s.score, weight: s.weight })),
    reasons: [...r.reasons],
    runnerUp:
      r.runnerUp === undefined
        ? null
        : {
            node: r.runnerUp.node,
            score: r.runnerUp.score,
            scores: r.runnerUp.scores.map((s) => ({ plugin: s.plugin, score: s.score, weight: s.weight })),
          },
    message: r.message ?? "",
    rejections:
      r.rejections === undefined
        ? null
        : {
            total: r.rejections.total,
            nodes: r.rejections.nodes.map((n) => ({ node: n.node, filter: n.filter, reason: n.reason })),
            more: Object.entries(r.rejections.more).sort((a, b) => b[1] - a[1]),
          },
    latencyMs: Math.round(r.latencyMs * 10) / 10,
    advisory: r.advisory,
    dryRun: r.dryRun,
    running: r.running,
  };
}

/** Records with an id above `afterId`, oldest first, at most the newest `limit`. */
export function decisionsAfter(
  records: readonly DecisionRecord[],
  afterId: number,
  limit: number,
): DecisionView[] {
  const out: DecisionView[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < limit; i--) {
    const r = records[i] as DecisionRecord;
    if (r.id <= afterId) break;
    out.push(decisionView(r));
  }
  return out.reverse();
}

export function summaryView(s: SchedulingSummary): SummaryView {
  const numbers = (m: Record<string, bigint>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));
  return {
    decisions: Number(s.decisions),
    scheduled: Number(s.scheduled),
    unschedulable: Number(s.unschedulable),
    rejected: Number(s.rejected),
    errors: Number(s.errors),
    reachedRunning: Number(s.reachedRunning),
    placementsPerNode: numbers(s.placementsPerNode),
    unschedulableReasons: numbers(s.unschedulableReasons),
    latencyP50Ms: s.latencyP50Ms,
    latencyP99Ms: s.latencyP99Ms,
  };
}

/** Pods per Kubernetes node name, from pod objects (spec.nodeName), terminated pods left out. */
export function podsByNode(
  pods: ReadonlyArray<{ spec?: { nodeName?: string }; status?: { phase?: string } }>,
) {
  const counts = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!node || phase === "Succeeded" || phase === "Failed") continue;
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}
