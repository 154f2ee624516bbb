// Engine decisions (and refusals) as the wire's ScheduleDecision. Pure.
import { createMessage, DecisionStatus, type ScheduleDecision, timestamp } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";

export interface DecisionContext {
  readonly requestId: string;
  readonly now: number;
  /** No cluster: nothing was (or will be) created. */
  readonly advisory?: boolean;
  readonly podUid?: string;
}

/** Scores as wire integers; a non-finite score (it must not happen, ingest rejects NaN) becomes 0, never a throw. */
const int = (x: number): bigint => (Number.isFinite(x) ? BigInt(Math.round(x)) : 0n);

/** The engine's decision for the wire: scores rounded to integers, rejections and runner-up kept. */
export function toScheduleDecision(d: Decision, ctx: DecisionContext): ScheduleDecision {
  return createMessage("scheduleDecision", {
    requestId: ctx.requestId,
    status: d.status === "scheduled" ? DecisionStatus.SCHEDULED : DecisionStatus.UNSCHEDULABLE,
    node: d.node ?? "",
    score: int(d.score ?? 0),
    scores: (d.scores ?? []).map((s) => ({ plugin: s.plugin, score: int(s.score), weight: int(s.weight) })),
    message: d.message,
    rejections: d.rejections.map((r) => ({ node: r.node, filter: r.filter, reason: r.reason })),
    podUid: ctx.podUid ?? "",
    advisory: ctx.advisory ?? false,
    runnerUp: d.runnerUp?.node ?? "",
    time: timestamp(ctx.now),
  });
}

export function rejectedDecision(requestId: string, reason: string, now: number): ScheduleDecision {
  return createMessage("scheduleDecision", {
    requestId,
    status: DecisionStatus.REJECTED,
    message: `request refused: ${reason}`,
    time: timestamp(now),
  });
}

export function errorDecision(
  requestId: string,
  message: string,
  now: number,
  podUid = "",
): ScheduleDecision {
  return createMessage("scheduleDecision", {
    requestId,
    status: DecisionStatus.ERROR,
    message,
    podUid,
    time: timestamp(now),
  });
}

/**
 * The pod turned out to be bound already (by an earlier attempt for the same request, or by someone
 * else): scheduled on that node. Keeps the planned decision's reasoning when it chose the same node.
 */
export function alreadyBoundDecision(
  planned: ScheduleDecision | undefined,
  ctx: DecisionContext & { node: string; podUid: string },
): ScheduleDecision {
  if (planned !== undefined && planned.node === ctx.node && planned.status === DecisionStatus.SCHEDULED) {
    return createMessage("scheduleDecision", { ...planned, podUid: ctx.podUid, time: timestamp(ctx.now) });
  }
  return createMessage("scheduleDecision", {
    requestId: ctx.requestId,
    status: DecisionStatus.SCHEDULED,
    node: ctx.node,
    message: `pod was already bound to ${ctx.node}${planned?.node ? ` (this coordinator had chosen ${planned.node})` : ""}`,
    podUid: ctx.podUid,
    time: timestamp(ctx.now),
  });
}

export const STATUS_NAME: Record<DecisionStatus, string> = {
  [DecisionStatus.UNSPECIFIED]: "unspecified",
  [DecisionStatus.SCHEDULED]: "scheduled",
  [DecisionStatus.UNSCHEDULABLE]: "unschedulable",
  [DecisionStatus.REJECTED]: "rejected",
  [DecisionStatus.ERROR]: "error",
};
