// Human-readable scheduling text: the fleet report's section, and one decision as `k3s-fleet schedule`
// prints it. Pure: messages in, text out.
import {
  DecisionStatus,
  type ScheduleDecision,
  type SchedulingSummary,
  timestampMs,
} from "../../proto/index.ts";
import { STATUS_NAME } from "../placement/decision.ts";
import { decisionLine, fromRecent } from "./decision-line.ts";

const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

function sortedEntries(map: Record<string, bigint>): Array<[string, bigint]> {
  return Object.entries(map).sort(([a, x], [b, y]) =>
    x === y ? (a < b ? -1 : a > b ? 1 : 0) : x > y ? -1 : 1,
  );
}

export function renderSchedulingSection(s: SchedulingSummary): string {
  if (s.decisions === 0n) return "Scheduling: no decisions yet";
  const lines = [
    "Scheduling:",
    `  Decisions: ${s.decisions}   Scheduled: ${s.scheduled}   Unschedulable: ${s.unschedulable}   Rejected: ${s.rejected}   Errors: ${s.errors}`,
    `  Decision Latency: p50 ${ms(s.latencyP50Ms)} ms   p99 ${ms(s.latencyP99Ms)} ms`,
    `  Reached Running: ${s.reachedRunning}`,
  ];
  const placements = sortedEntries(s.placementsPerNode);
  if (placements.length > 0) {
    lines.push("  Placements per Node:");
    const width = Math.max(...placements.map(([n]) => n.length));
    for (const [node, count] of placements) lines.push(`    ${node.padEnd(width)}  ${count}`);
  }
  const reasons = sortedEntries(s.unschedulableReasons);
  if (reasons.length > 0) {
    lines.push("  Unschedulable Reasons:");
    for (const [reason, count] of reasons) lines.push(`    ${count}× ${reason}`);
  }
  if (s.recent.length > 0) {
    lines.push("  Last Decisions (newest first, UTC):");
    for (const d of s.recent) lines.push(`    ${decisionLine(fromRecent(d))}`);
  }
  return lines.join("\n");
}

/** Rejected nodes listed before "… and N more". */
export const MAX_REJECTIONS_SHOWN = 20;

/** A ScheduleDecision as `k3s-fleet schedule` prints it: outcome first, then the reasoning. */
export function renderDecision(d: ScheduleDecision, pod: string): string {
  const lines: string[] = [];
  const status = STATUS_NAME[d.status].toUpperCase();
  if (d.status === DecisionStatus.SCHEDULED) {
    lines.push(`${status} ${pod} on ${d.node} (score ${d.score})${d.advisory ? " [advisory]" : ""}`);
  } else lines.push(`${status} ${pod}`);
  if (d.message) lines.push(`  Reason: ${d.message}`);
  if (d.scores.length > 0) {
    lines.push(`  Scores: ${d.scores.map((s) => `${s.plugin} ${s.score}×${s.weight}`).join(", ")}`);
  }
  if (d.runnerUp) lines.push(`  Runner-up: ${d.runnerUp}`);
  if (d.rejections.length > 0) {
    lines.push(d.status === DecisionStatus.SCHEDULED ? "  Nodes not chosen:" : "  Nodes:");
    const shown = d.rejections.slice(0, MAX_REJECTIONS_SHOWN);
    const width = Math.max(...shown.map((r) => r.node.length));
    for (const r of shown) lines.push(`    ${r.node.padEnd(width)}  ${r.filter}: ${r.reason}`);
    if (d.rejections.length > shown.length)
      lines.push(`    … and ${d.rejections.length - shown.length} more`);
  }
  if (d.podUid) lines.push(`  Pod UID: ${d.podUid}`);
  if (d.advisory) lines.push("  Advisory: no Kubernetes cluster is connected; nothing was created.");
  const ms = timestampMs(d.time);
  if (ms !== undefined) lines.push(`  Decided: ${new Date(ms).toISOString()}`);
  return lines.join("\n");
}
