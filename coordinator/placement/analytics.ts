// Scheduling analytics: every decision (source, pod, node, scores, latency, outcome) in a bounded window,
// and the report's SchedulingSummary over it. "Reached Running" is filled in later, when the informer
// shows the pod Running on the node it was placed on. The summary lists the last decisions too (recent.ts).
// Pure: records in, summary out.
import { create } from "@bufbuild/protobuf";
import { type SchedulingSummary, SchedulingSummarySchema } from "../../proto/index.ts";
import { recentDecisions } from "./recent.ts";
import type { RejectionSummary } from "./rejections.ts";

export type DecisionSource = "mqtt" | "pod";
export type DecisionStatusName = "scheduled" | "unschedulable" | "rejected" | "error";

export interface DecisionRecord {
  /** Increasing; assigned by `record` (or by the store the record was loaded from). */
  readonly id: number;
  readonly at: number;
  readonly source: DecisionSource;
  /** namespace/name; empty for a request that did not decode far enough to name one. */
  readonly pod: string;
  readonly requestId: string;
  readonly status: DecisionStatusName;
  readonly node: string;
  readonly score: number;
  readonly scores: ReadonlyArray<{
    readonly plugin: string;
    readonly score: number;
    readonly weight: number;
  }>;
  /** Unschedulable: each distinct filter reason; rejected or error: the reason given. */
  readonly reasons: readonly string[];
  /** Placed with another feasible node: the second-best one and its per-plugin scores. */
  readonly runnerUp?: {
    readonly node: string;
    readonly score: number;
    readonly scores: DecisionRecord["scores"];
  };
  /** The decision's own words: kube-scheduler's "0/N nodes are available: …" when nothing fits. */
  readonly message?: string;
  /** Unschedulable: which filter rejected which node and why (bounded, see rejections.ts). */
  readonly rejections?: RejectionSummary;
  /** From the request's arrival (or the pod's turn in the queue) to the decision's outcome. */
  readonly latencyMs: number;
  /** Nothing was created: standalone (advisory) or dry-run. */
  readonly advisory: boolean;
  readonly dryRun: boolean;
  /** The placed pod was seen Running on `node`. */
  running: boolean;
}

export type NewRecord = Omit<DecisionRecord, "id" | "running"> & { readonly running?: boolean };

export interface Analytics {
  record(r: NewRecord): DecisionRecord;
  /** Restores records kept by the store, oldest first. */
  load(records: readonly DecisionRecord[]): void;
  /** The informer shows pod `key` (namespace/name) in `phase` on `node`; returns the record it completes. */
  podObserved(key: string, node: string | undefined, phase: string | undefined): DecisionRecord | undefined;
  records(): readonly DecisionRecord[];
  summary(): SchedulingSummary;
}

/** Distinct reasons listed in the summary; the rest are counted under "other". */
export const MAX_REASONS = 32;

/** Nearest-rank percentile of sorted values; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] as number;
}

export function createAnalytics(options: { window: number }): Analytics {
  const window = Math.max(1, Math.floor(options.window));
  let list: DecisionRecord[] = [];
  let nextId = 1;
  /** Placed pods not yet seen Running, by namespace/name. */
  const awaiting = new Map<string, DecisionRecord>();

  const track = (r: DecisionRecord): void => {
    if (r.status === "scheduled" && !r.advisory && !r.dryRun && !r.running && r.pod !== "")
      awaiting.set(r.pod, r);
  };
  const trim = (): void => {
    if (list.length <= window + (window >> 2)) return;
    const dropped = list.splice(0, list.length - window);
    for (const r of dropped) if (awaiting.get(r.pod) === r) awaiting.delete(r.pod);
  };

  return {
    record(input) {
      const r: DecisionRecord = { ...input, id: nextId++, running: input.running ?? false };
      list.push(r);
      track(r);
      trim();
      return r;
    },
    load(records) {
      list = [...records, ...list];
      for (const r of records) {
        track(r);
        nextId = Math.max(nextId, r.id + 1);
      }
      trim();
    },
    podObserved(key, node, phase) {
      const r = awaiting.get(key);
      if (r === undefined || phase !== "Running" || node !== r.node) return undefined;
      awaiting.delete(key);
      r.running = true;
      return r;
    },
    records: () => list.slice(-window),
    summary() {
      const recent = list.slice(-window);
      const s = create(SchedulingSummarySchema, {});
      const latencies: number[] = [];
      const reasons = new Map<string, bigint>();
      for (const r of recent) {
        s.decisions++;
        if (r.status === "scheduled") {
          s.scheduled++;
          if (!r.dryRun) s.placementsPerNode[r.node] = (s.placementsPerNode[r.node] ?? 0n) + 1n;
        } else if (r.status === "unschedulable") {
          s.unschedulable++;
          for (const reason of r.reasons) {
            const key = reasons.has(reason) || reasons.size < MAX_REASONS ? reason : "other";
            reasons.set(key, (reasons.get(key) ?? 0n) + 1n);
          }
        } else if (r.status === "rejected") s.rejected++;
        else s.errors++;
        if (r.status === "scheduled" || r.status === "unschedulable") latencies.push(r.latencyMs);
        if (r.running) s.reachedRunning++;
      }
      latencies.sort((a, b) => a - b);
      s.latencyP50Ms = percentile(latencies, 0.5);
      s.latencyP99Ms = percentile(latencies, 0.99);
      s.unschedulableReasons = Object.fromEntries(reasons);
      s.recent = recentDecisions(recent);
      return s;
    },
  };
}
