// The report's last decisions (SchedulingSummary.recent): a decision record as the small RecentDecision
// a subscriber (e.g. `k3s-fleet top` on a plain broker) lists. Bounded in count and in every string, so
// the retained report stays small at any fleet size. Pure: records in, messages out.
import { create } from "@bufbuild/protobuf";
import {
  DecisionSource,
  DecisionStatus,
  type RecentDecision,
  RecentDecisionSchema,
  timestamp,
} from "../../proto/index.ts";
import type { DecisionRecord, DecisionStatusName } from "./analytics.ts";

/** Decisions the report lists. */
export const MAX_RECENT = 10;
/** UTF-8 bytes of a decision's message kept (200 characters of ASCII), "…" included. */
export const MAX_RECENT_MESSAGE = 200;
/** UTF-8 bytes kept of a pod, request id or node name (salvaged request ids can be anything). */
export const MAX_RECENT_NAME = 256;

const STATUS: Record<DecisionStatusName, DecisionStatus> = {
  scheduled: DecisionStatus.SCHEDULED,
  unschedulable: DecisionStatus.UNSCHEDULABLE,
  rejected: DecisionStatus.REJECTED,
  error: DecisionStatus.ERROR,
};

const utf8Bytes = (codePoint: number): number =>
  codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;

/**
 * At most `maxBytes` bytes of UTF-8, whole characters only; when cut, the last is "…" (3 bytes), so the
 * report's size does not depend on which characters a requester chose.
 */
export function bounded(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a pair of them, 4).
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  let cutAt = -1;
  for (const ch of text) {
    bytes += utf8Bytes(ch.codePointAt(0) ?? 0);
    if (cutAt < 0 && bytes > maxBytes - 3) cutAt = end;
    if (bytes > maxBytes) return `${text.slice(0, cutAt)}…`;
    end += ch.length;
  }
  return text;
}

/** Why, in one line: refusals and errors give their reason; the rest the decision's own words. */
function why(r: DecisionRecord): string {
  const text =
    r.status === "rejected" || r.status === "error"
      ? r.reasons[0] || r.message || ""
      : r.message || r.reasons.join("; ");
  return bounded(text, MAX_RECENT_MESSAGE);
}

const finite = (x: number | undefined): number | undefined =>
  x !== undefined && Number.isFinite(x) ? x : undefined;

export function recentDecision(r: DecisionRecord): RecentDecision {
  const placed = r.status === "scheduled";
  return create(RecentDecisionSchema, {
    requestId: bounded(r.requestId, MAX_RECENT_NAME),
    pod: bounded(r.pod, MAX_RECENT_NAME),
    source:
      r.source === "pod"
        ? DecisionSource.PENDING_POD
        : r.dryRun
          ? DecisionSource.DRY_RUN
          : DecisionSource.MQTT_REQUEST,
    status: STATUS[r.status],
    node: placed ? bounded(r.node, MAX_RECENT_NAME) : "",
    latencyMs: finite(r.latencyMs) ?? 0,
    time: timestamp(r.at),
    score: placed ? finite(r.score) : undefined,
    runnerUp: placed && r.runnerUp ? bounded(r.runnerUp.node, MAX_RECENT_NAME) : "",
    runnerUpScore: placed ? finite(r.runnerUp?.score) : undefined,
    message: why(r),
    advisory: r.advisory,
  });
}

/** The newest `max` of `records` (oldest first, as analytics keeps them), newest first. */
export function recentDecisions(records: readonly DecisionRecord[], max = MAX_RECENT): RecentDecision[] {
  return records
    .slice(Math.max(0, records.length - max))
    .reverse()
    .map(recentDecision);
}
