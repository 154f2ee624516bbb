// Human-readable fleet report, in the spirit of the old tool's "Resource Summary". Pure: report in,
// text out; times are printed in UTC so the same report renders the same everywhere. Every string that
// came from the bus goes through printable(): a birth's install id or hostname must not drive a terminal.

import { type FleetReport, NodeHealth, type NodeReport, type Trend, timestampMs } from "../../proto/index.ts";
import { renderClusterSection } from "./cluster-render.ts";
import { printable } from "./decision-line.ts";
import { renderSchedulingSection } from "./scheduling-render.ts";

const HEALTH_LABEL: Record<NodeHealth, string> = {
  [NodeHealth.UNSPECIFIED]: "UNKNOWN",
  [NodeHealth.ONLINE]: "ONLINE",
  [NodeHealth.STALE]: "STALE",
  [NodeHealth.OFFLINE]: "OFFLINE",
};

export function renderReport(report: FleetReport): string {
  const lines = ["=== K3s Fleet Resource Summary ==="];
  const ms = timestampMs(report.time);
  lines.push(`Timestamp: ${ms === undefined ? "unknown" : formatUtc(ms)}`);
  if (report.coordinatorId || report.mode) {
    lines.push(
      `Coordinator: ${printable(report.coordinatorId || "unknown")} (${printable(report.mode || "unknown mode")})`,
    );
  }
  lines.push("", ...localSystem(report.localSystem), "", ...fleetHealth(report), "", ...nodes(report.nodes));
  if (report.cluster) lines.push("", renderClusterSection(report.cluster).trimEnd());
  if (report.scheduling) lines.push("", renderSchedulingSection(report.scheduling).trimEnd());
  lines.push("", ingest(report));
  return lines.join("\n");
}

function localSystem(local: NodeReport | undefined): string[] {
  if (local === undefined) return ["Local System: no agent on this machine"];
  return [
    "Local System:",
    `  Hostname: ${printable(local.hostname || local.nodeId)}`,
    `  CPU Usage: ${local.cpuPercent.toFixed(2)}%`,
    `  Memory Usage: ${local.memoryPercent.toFixed(2)}%`,
    `  Online: ${local.online}`,
    `  Internet: ${local.internet ?? "not checked"}`,
    `  VPN: ${local.vpn}`,
  ];
}

function fleetHealth(report: FleetReport): string[] {
  const f = report.fleet;
  if (f === undefined) return ["Fleet Health: unknown"];
  return [
    "Fleet Health:",
    `  Total Nodes: ${f.totalNodes}   Online: ${f.onlineNodes}   Stale: ${f.staleNodes}   Offline: ${f.offlineNodes}`,
    `  Node Health: ${f.healthPercent.toFixed(2)}%`,
    `  Average CPU: ${f.avgCpuPercent.toFixed(2)}%   Average Memory: ${f.avgMemoryPercent.toFixed(2)}%`,
  ];
}

function nodes(list: NodeReport[]): string[] {
  if (list.length === 0) return ["Nodes: none yet"];
  const ids = list.map((n) => printable(n.nodeId));
  const idWidth = Math.max(...ids.map((id) => id.length));
  return ["Nodes:", ...list.map((n, i) => `  ${(ids[i] ?? "").padEnd(idWidth)}  ${nodeLine(n)}`)];
}

function nodeLine(n: NodeReport): string {
  const health = HEALTH_LABEL[n.health].padEnd(7);
  const conflict =
    n.idConflicts > 0n
      ? `  NODE ID CONFLICT: ${n.idConflicts} birth(s) from another machine (install ${printable(n.conflictingInstallId)}) refused`
      : "";
  const counters = `seq gaps ${n.gaps} dup ${n.duplicates}${conflict}`;
  if (n.lastSeenMs === undefined) return `${health}  no telemetry yet  ${counters}`;
  return [
    health,
    `cpu ${pct(n.cpuPercent)} ${trend(n.cpu5m)}`,
    `mem ${pct(n.memoryPercent)} ${trend(n.memory5m)}`,
    `disk ${Math.round(n.diskMaxUsePercent)}%`,
    `last seen ${age(Number(n.lastSeenMs))}`,
    counters,
  ].join("  ");
}

function pct(value: number): string {
  return `${value.toFixed(1)}%`;
}

function trend(t: Trend | undefined): string {
  if (t === undefined || t.samples === 0) return "(5m no data)";
  return `(5m avg ${t.avg.toFixed(1)} max ${t.max.toFixed(1)})`;
}

/** 850ms, 1.2s, 3m05s, 2h10m, 3d4h. */
export function age(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function ingest(report: FleetReport): string {
  const i = report.ingest;
  if (i === undefined) return "Ingest: no counters";
  const reasons = Object.keys(i.rejected)
    .sort()
    .map((reason) => `${printable(reason)}=${i.rejected[reason]}`);
  return (
    `Ingest: received ${i.received} decoded ${i.decoded} duplicates ${i.duplicates} gaps ${i.gaps} ` +
    `rejected ${reasons.length === 0 ? "none" : reasons.join(" ")}`
  );
}

/** 2024-01-15 10:30:45 UTC */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
