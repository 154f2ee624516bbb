// Builds the FleetReport from fleet state and history. Pure: data and `now` in, a message out.
import {
  createMessage,
  type FleetReport,
  NodeHealth,
  type NodeReport,
  type Trend,
  timestamp,
} from "../../proto/index.ts";
import type { FleetHistory, Metric, NodeHistory } from "../fleet/history.ts";
import { u64 } from "../fleet/live-sample.ts";
import { type FleetState, type NodeState, nodeHealth } from "../fleet/state.ts";

/** Ingest counters as the ingest keeps them; the report carries them as IngestCounters. */
export interface IngestTotals {
  /** Messages handed to ingest. */
  received: number;
  /** Messages that decoded (whether or not they were then applied). */
  decoded: number;
  /** Empty retained births and statuses: MQTT's way to delete one, so the node was forgotten. */
  cleared?: number;
  duplicates: number;
  gaps: number;
  /** Rejected messages by reason (bad_topic, bad_node_id, decode_error, oversized, invalid, ...). */
  rejected: Readonly<Record<string, number>>;
}

export interface ReportContext {
  now: number;
  coordinatorId: string;
  /** "cluster" or "standalone". */
  mode: string;
  /** Node id or hostname of the agent on the coordinator's own machine. */
  localNodeId?: string;
  ingest: IngestTotals;
}

const FIVE_MINUTES = 5 * 60_000;
const HOUR = 60 * 60_000;

/** Nodes per slice when a report is built or encoded in slices: a few milliseconds of work each. */
export const REPORT_SLICE_NODES = 500;

export function buildReport(fleet: FleetState, history: FleetHistory, context: ReportContext): FleetReport {
  return finish(buildReportInSlices(fleet, history, context, Number.POSITIVE_INFINITY));
}

/**
 * The same report, built `sliceNodes` nodes at a time: the generator pauses between slices so that the
 * caller can let other work (ingest) run. State that changes between slices shows up in later nodes only;
 * a node removed meanwhile is left out. The report is whole once the generator returns it.
 */
export function* buildReportInSlices(
  fleet: FleetState,
  history: FleetHistory,
  context: ReportContext,
  sliceNodes = REPORT_SLICE_NODES,
): Generator<void, FleetReport> {
  const { now, localNodeId } = context;
  const ids = [...fleet.nodes.keys()].sort(compareIds);
  const nodes: NodeReport[] = [];
  let online = 0;
  let stale = 0;
  let cpuSum = 0;
  let memorySum = 0;
  let sampled = 0;
  let local: NodeReport | undefined;
  let inSlice = 0;
  for (const id of ids) {
    if (inSlice++ === sliceNodes) {
      inSlice = 1;
      yield;
    }
    const state = fleet.nodes.get(id);
    if (state === undefined) continue;
    const report = nodeReport(fleet, state, history.get(id), now);
    nodes.push(report);
    if (report.health === NodeHealth.ONLINE) {
      online++;
      if (state.latest !== undefined) {
        cpuSum += report.cpuPercent;
        memorySum += report.memoryPercent;
        sampled++;
      }
    } else if (report.health === NodeHealth.STALE) stale++;
    if (local === undefined && localNodeId !== undefined && isLocal(state, localNodeId)) local = report;
  }
  const total = nodes.length;
  return createMessage("report", {
    time: timestamp(now),
    coordinatorId: context.coordinatorId,
    mode: context.mode,
    localSystem: local,
    fleet: {
      totalNodes: total,
      onlineNodes: online,
      staleNodes: stale,
      offlineNodes: total - online - stale,
      healthPercent: total === 0 ? 0 : (online / total) * 100,
      avgCpuPercent: sampled === 0 ? 0 : cpuSum / sampled,
      avgMemoryPercent: sampled === 0 ? 0 : memorySum / sampled,
    },
    nodes,
    ingest: {
      received: BigInt(context.ingest.received),
      decoded: BigInt(context.ingest.decoded),
      duplicates: BigInt(context.ingest.duplicates),
      gaps: BigInt(context.ingest.gaps),
      rejected: Object.fromEntries(Object.entries(context.ingest.rejected).map(([k, v]) => [k, BigInt(v)])),
    },
  });
}

/** Runs a sliced computation to its end without pausing. */
export function finish<T>(slices: Generator<void, T>): T {
  for (;;) {
    const step = slices.next();
    if (step.done) return step.value;
  }
}

function isLocal(node: NodeState, localNodeId: string): boolean {
  return node.nodeId === localNodeId || node.birth?.hostname === localNodeId;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nodeReport(
  fleet: FleetState,
  node: NodeState,
  history: NodeHistory | undefined,
  now: number,
): NodeReport {
  const birth = node.birth;
  const t = node.latest;
  const os = birth?.os;
  // A literal rather than create(NodeReportSchema, …): every field is set here (the type demands it), and
  // create's per-field reflection was most of the report's build time at 10,000 nodes.
  return {
    $typeName: "k3sfleet.v1.NodeReport",
    nodeId: node.nodeId,
    hostname: birth?.hostname ?? "",
    health: nodeHealth(fleet, node, now),
    session: node.session,
    lastSeenMs:
      node.lastTelemetryAtMs === undefined ? undefined : BigInt(Math.max(0, now - node.lastTelemetryAtMs)),
    cpuPercent: t?.cpuPercent ?? 0,
    cores: t?.cores || birth?.cpu?.cores || 0,
    load1m: t?.load1m ?? 0,
    memoryTotalBytes: (t && u64(t.memoryTotalBytes)) || birth?.memoryTotalBytes || 0n,
    memoryUsedBytes: t ? u64(t.memoryUsedBytes) : 0n,
    memoryPercent: t?.memoryPercent ?? 0,
    diskMaxUsePercent: t?.diskMaxUsePercent ?? 0,
    rxBytesPerSec: t ? u64(t.rxBytesPerSec) : 0n,
    txBytesPerSec: t ? u64(t.txBytesPerSec) : 0n,
    online: t?.online ?? false,
    internet: t?.internet,
    vpn: t?.vpn ?? false,
    uptimeSeconds: t ? u64(t.uptimeSeconds) : 0n,
    cpuTemperatureCelsius: t?.cpuTemperatureCelsius,
    cpu5m: trend(history, "cpu", now, FIVE_MINUTES),
    cpu60m: trend(history, "cpu", now, HOUR),
    memory5m: trend(history, "memory", now, FIVE_MINUTES),
    memory60m: trend(history, "memory", now, HOUR),
    received: BigInt(node.received),
    duplicates: BigInt(node.duplicates),
    gaps: BigInt(node.gaps),
    historical: BigInt(node.historical),
    agentVersion: birth?.agentVersion ?? "",
    os: os === undefined ? "" : [os.distro || os.platform, os.release].filter(Boolean).join(" "),
    installId: node.installId,
    idConflicts: BigInt(node.idConflicts),
    conflictingInstallId: node.conflictingInstallId,
  };
}

function trend(history: NodeHistory | undefined, metric: Metric, now: number, windowMs: number): Trend {
  const w = history?.window(metric, now, windowMs);
  return {
    $typeName: "k3sfleet.v1.Trend",
    min: w?.min ?? 0,
    avg: w?.avg ?? 0,
    max: w?.max ?? 0,
    samples: w?.samples ?? 0,
  };
}
