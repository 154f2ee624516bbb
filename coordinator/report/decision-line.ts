// One scheduling decision as one line of text: what happened to which pod, where, and why. Shared by
// `k3s-fleet top` (from the web view or the report) and the text report's "Last Decisions". Strings from
// the bus never pass control characters to a terminal. Pure.
import { DecisionSource, type RecentDecision, timestampMs } from "../../proto/index.ts";
import { STATUS_NAME } from "../placement/decision.ts";

/** What a decision line shows: the web view's decisions and the report's RecentDecision both give it. */
export interface DecisionLineInput {
  /** When it was decided (ms since the epoch). */
  readonly at: number;
  readonly status: string;
  readonly pod: string;
  readonly requestId: string;
  readonly node: string;
  readonly score: number;
  /** The second-best node, and its total score when known. */
  readonly runnerUp?: { readonly node: string; readonly score?: number | undefined } | null;
  readonly message?: string;
  readonly reasons: readonly string[];
  readonly latencyMs: number;
  readonly dryRun: boolean;
  readonly advisory: boolean;
}

/** Control characters from the bus never reach the terminal: they could move the cursor or set titles. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

function cell(text: string, width: number): string {
  const t = printable(text);
  return t.length > width ? `${t.slice(0, Math.max(0, width - 1))}…` : t.padEnd(width);
}

const clockOf = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const score = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** "03:04:05 scheduled     default/p    -> b score 80.50, runner-up a 61 (2.3 ms, dry-run)", no indent. */
export function decisionLine(d: DecisionLineInput): string {
  const r = d.runnerUp;
  const runnerUp = r ? `, runner-up ${r.node}${r.score === undefined ? "" : ` ${score(r.score)}`}` : "";
  const what =
    d.status === "scheduled"
      ? `-> ${d.node} score ${score(d.score)}${runnerUp}`
      : d.status === "unschedulable"
        ? d.message || d.reasons.join("; ")
        : (d.reasons[0] ?? d.message ?? "");
  const tags = [d.dryRun ? "dry-run" : "", d.advisory ? "advisory" : ""].filter(Boolean).join(" ");
  return (
    `${clockOf(d.at)} ${cell(d.status, 13)} ${cell(d.pod || d.requestId || "(unnamed)", 28)} ` +
    `${printable(what)} (${d.latencyMs.toFixed(1)} ms${tags ? `, ${tags}` : ""})`
  );
}

/** A RecentDecision from the report as a line's input; its message carries the reason of a refusal. */
export function fromRecent(r: RecentDecision): DecisionLineInput {
  return {
    at: timestampMs(r.time) ?? 0,
    // A status this build does not know (a newer coordinator) is shown, not dropped.
    status: STATUS_NAME[r.status] ?? `status ${r.status}`,
    pod: r.pod,
    requestId: r.requestId,
    node: r.node,
    score: r.score ?? 0,
    runnerUp: r.runnerUp ? { node: r.runnerUp, score: r.runnerUpScore } : null,
    message: r.message,
    reasons: [],
    latencyMs: r.latencyMs,
    dryRun: r.source === DecisionSource.DRY_RUN,
    advisory: r.advisory,
  };
}
