// The one builder of decision records (analytics, store, the onDecision hook), for both sources: a
// pending pod's attempt and an MQTT request's answer. Pure.
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Decision, RunnerUp } from "../scheduler/index.ts";
import type { DecisionSource, DecisionStatusName, NewRecord } from "./analytics.ts";
import { STATUS_NAME } from "./decision.ts";
import { type NodeRejectionRecord, summariseRejections } from "./rejections.ts";

/** What a record says about the decision itself. */
export interface RecordResult {
  readonly status: DecisionStatusName;
  readonly node: string;
  readonly score: number;
  readonly scores: NewRecord["scores"];
  /** Unschedulable: each distinct filter reason; rejected or error: the reason given. */
  readonly reasons: readonly string[];
  /** The explanation beyond the winner: runner-up, message, per-node filter reasons (when known). */
  readonly explain?: Pick<NewRecord, "runnerUp" | "message" | "rejections">;
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
    ...result.explain,
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
    explain: explainOf(d, placed ? d.node : undefined),
  };
}

const copyRunnerUp = (r: RunnerUp) => ({
  node: r.node,
  score: r.score,
  scores: r.scores.map((s) => ({ ...s })),
});

/**
 * The engine's explanation of `d` for a record: the runner-up (when `placedOn` is the engine's choice),
 * the message, and for an unschedulable decision its per-node filter reasons.
 */
export function explainOf(d: Decision, placedOn: string | undefined): RecordResult["explain"] {
  const r = d.runnerUp;
  return {
    ...(r !== undefined && placedOn !== undefined && placedOn === d.node
      ? { runnerUp: copyRunnerUp(r) }
      : {}),
    message: d.message,
    ...(d.status === "unschedulable" ? { rejections: summariseRejections(d.rejections) } : {}),
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

/**
 * The answer a request got, as a record result. The wire names the runner-up but not its scores: those
 * come from `engine`, the engine decision behind the answer, when there was one and it chose the same node
 * (then the winner's scores are the engine's exact ones too).
 */
export function answerResult(
  d: ScheduleDecision,
  reasons: readonly string[],
  engine?: Decision,
): RecordResult {
  const status = STATUS_NAME[d.status] as DecisionStatusName;
  // The engine's decision behind this answer: its exact scores (the wire rounds them to integers), so the
  // winner's and the runner-up's figures compare.
  const same = engine !== undefined && d.node !== "" && engine.node === d.node ? engine : undefined;
  const r = same?.runnerUp;
  const rejections: NodeRejectionRecord[] = d.rejections;
  return {
    status,
    node: d.node,
    score: same?.score ?? Number(d.score),
    scores:
      same?.scores?.map((s) => ({ ...s })) ??
      d.scores.map((s) => ({ plugin: s.plugin, score: Number(s.score), weight: Number(s.weight) })),
    reasons,
    explain: {
      ...(r !== undefined && r.node === d.runnerUp ? { runnerUp: copyRunnerUp(r) } : {}),
      message: d.message,
      ...(status === "unschedulable" ? { rejections: summariseRejections(rejections) } : {}),
    },
  };
}
