// The human-readable cluster section, in the old tool's style ("Cluster Health:", "Node Metrics:").
// Pure: summary in, text out. CPU in millicores ("3800m"), memory in binary units ("7.5Gi"), "n/a" where
// a value is unknown (no metrics-server, no agent, agent offline).
import type { ClusterNodeReport, ClusterSummary } from "../../proto/index.ts";

export function renderClusterSection(summary: ClusterSummary): string {
  const lines = [
    "Cluster Health:",
    `  Total Nodes: ${summary.totalNodes}`,
    `  Ready Nodes: ${summary.readyNodes}`,
    `  Total Pods: ${summary.totalPods}`,
    `  Running Pods: ${summary.runningPods}`,
    `  Node Health: ${summary.nodeHealthPercent.toFixed(2)}%`,
    `  Pod Health: ${summary.podHealthPercent.toFixed(2)}%`,
  ];
  if (!summary.metricsAvailable) lines.push("  Metrics: metrics.k8s.io not available (no used values)");
  lines.push("");
  lines.push(summary.nodes.length === 0 ? "Node Metrics: no nodes" : "Node Metrics:");
  for (const node of summary.nodes) lines.push(...nodeLines(node));
  if (summary.agentsWithoutNode.length > 0) {
    lines.push(`  Agents without a Kubernetes node: ${summary.agentsWithoutNode.join(", ")}`);
  }
  return lines.join("\n");
}

function nodeLines(node: ClusterNodeReport): string[] {
  const notes: string[] = [];
  if (!node.ready) notes.push("NotReady");
  if (node.unschedulable) notes.push("SchedulingDisabled");
  if (!node.hasAgent) notes.push("no agent");
  else if (node.cpuLivePercent === undefined) notes.push("agent offline");
  const header = notes.length > 0 ? `  ${node.name} (${notes.join(", ")}):` : `  ${node.name}:`;
  const cpu = [
    `capacity ${formatMillis(node.cpuCapacityMillis)}`,
    `allocatable ${formatMillis(node.cpuAllocatableMillis)}`,
    `requested ${formatMillis(node.cpuRequestedMillis)}`,
    `used ${node.cpuUsedMillis === undefined ? "n/a" : formatMillis(node.cpuUsedMillis)}`,
    `live ${formatPercent(node.cpuLivePercent)}`,
  ];
  const memory = [
    `capacity ${formatBytes(node.memoryCapacityBytes)}`,
    `allocatable ${formatBytes(node.memoryAllocatableBytes)}`,
    `requested ${formatBytes(node.memoryRequestedBytes)}`,
    `used ${node.memoryUsedBytes === undefined ? "n/a" : formatBytes(node.memoryUsedBytes)}`,
    `live ${formatPercent(node.memoryLivePercent)}`,
  ];
  return [header, `    CPU: ${cpu.join("  ")}`, `    Memory: ${memory.join("  ")}`];
}

export const formatMillis = (millis: bigint): string => `${millis}m`;

const formatPercent = (value: number | undefined): string =>
  value === undefined ? "n/a" : `${value.toFixed(1)}%`;

const BINARY_UNITS = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/** Bytes in the largest binary unit that keeps the value ≥ 1, one decimal, ".0" dropped: 7.5Gi, 512Mi. */
export function formatBytes(bytes: bigint): string {
  const negative = bytes < 0n;
  const abs = negative ? -bytes : bytes;
  if (abs < 1024n) return `${bytes}`;
  let unit = 0;
  while (unit < BINARY_UNITS.length - 1 && abs >= 1024n ** BigInt(unit + 2)) unit++;
  let value = Number(abs) / 1024 ** (unit + 1);
  // 1023.96Mi rounds to "1024.0Mi": say 1Gi instead.
  if (Math.round(value * 10) / 10 >= 1024 && unit < BINARY_UNITS.length - 1) {
    unit++;
    value /= 1024;
  }
  const text = value.toFixed(1).replace(/\.0$/, "");
  return `${negative ? "-" : ""}${text}${BINARY_UNITS[unit]}`;
}
