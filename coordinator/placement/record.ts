// The one builder of decision records (analytics, store, the onDecision hook), for both sources: a
// pending pod's attempt and an MQTT request's answer. Pure.
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import type { DecisionSource, DecisionStatusName, NewRecord } from "./analytics.ts";
import { STATUS_NAME } from "./decision.ts";

/** What a record says about the decision itself. */
export interface RecordResult {
  readonly status: DecisionStatusName;
  readonly node: string;
  readonly score: number;
  readonly scores: NewRecord["scores"];
  /** Unschedulable: each distinct filter reason; rejected or error: the reason given. */
  readonly reasons: readonly string[];
}

/** Where a decision came from and when its work started. */
export interface RecordSource {
  readonly source: DecisionSource;
  /** namespace/name, or "" when a request did not decode far enough to name one. */
  readonly pod: string;
  readonly requestId: string;
  readonly dryRun: boolean;
  /** Nothing was or will be created (standalone). */
  readonly advisory: boolean;
  /** When the request arrived, or the pod's attempt began. */
  readonly at: number;
  /** Start of the latency measured (the pod's due time; the request's arrival). */
  readonly since: number;
}

export function decisionRecord(from: RecordSource, result: RecordResult, now: number): NewRecord {
  return {
    at: from.at,
    source: from.source,
    pod: from.pod,
    requestId: from.requestId,
    status: result.status,
    node: result.node,
    score: result.score,
    scores: result.scores,
    reasons: result.reasons,
    latencyMs: now - from.since,
    advisory: from.advisory,
    dryRun: from.dryRun,
  };
}

/** An engine decision's result, as placed (`scheduled`), not placed, or failed with `reasons`. */
export function engineResult(
  d: Decision,
  status: DecisionStatusName,
  reasons: readonly string[] = [],
): RecordResult {
  const placed = status === "scheduled" || (status === "error" && d.node !== undefined);
  return {
    status,
    node: placed ? (d.node ?? "") : "",
    score: placed ? (d.score ?? 0) : 0,
    scores: placed ? (d.scores ?? []) : [],
    reasons,
  };
}

/** A result with no engine decision behind it (the decision could not be made). */
export const failedResult = (status: DecisionStatusName, reasons: readonly string[]): RecordResult => ({
  status,
  node: "",
  score: 0,
  scores: [],
  reasons,
});

/** The answer a request got, as a record result. */
export function answerResult(d: ScheduleDecision, reasons: readonly string[]): RecordResult {
  return {
    status: STATUS_NAME[d.status] as DecisionStatusName,
    node: d.node,
    score: Number(d.score),
    scores: d.scores.map((s) => ({ plugin: s.plugin, score: Number(s.score), weight: Number(s.weight) })),
    reasons,
  };
}
