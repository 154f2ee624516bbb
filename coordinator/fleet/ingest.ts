// Ingest: one received MQTT message → topic parsed, payload decoded, contract checked, fleet state and
// history updated. Never throws; every rejection is counted by reason and logged at most once per
// node (or topic) per interval. No sockets here: the coordinator feeds `handle` from its MQTT link.
import type { Logger } from "pino";
import { decode, parseTopic } from "../../proto/index.ts";
import type { IngestTotals } from "../report/build.ts";
import { FleetHistory, type HistoryOptions } from "./history.ts";
import { moreFigures } from "./history-figures.ts";
import {
  applyClaim,
  applyStatus,
  applyTelemetry,
  birthProblem,
  cpuPercent,
  createFleet,
  type FleetOptions,
  type FleetState,
  intervalOf,
  isForeignStatus,
  memoryPercent,
  nodeFor,
  statusProblem,
  telemetryProblem,
} from "./state.ts";
import { birthRangeProblem, telemetryRangeProblem } from "./telemetry-range.ts";

export type RejectReason =
  | "bad_topic"
  | "bad_node_id"
  | "decode_error"
  | "oversized"
  | "invalid"
  | "node_limit"
  /** A float in the sample is NaN or infinite (telemetry-range.ts). */
  | "non_finite"
  /** A figure no real machine reports (negative or > 100 %, 2^53+ bytes, thousands of list items). */
  | "out_of_range"
  /** From an install that lost a node id conflict (its status, its telemetry). */
  | "id_conflict"
  /** A bug in ingest itself (an exception); the message is dropped. */
  | "internal";

export interface IngestOptions {
  root: string;
  /** Payloads above this are rejected as `oversized` before decoding. */
  maxPayloadBytes: number;
  logger: Logger;
  now: () => number;
  fleet: FleetOptions;
  history?: Partial<HistoryOptions>;
  /** Messages for new node ids are rejected (`node_limit`) once this many nodes are known. */
  maxNodes?: number;
  /** A rejection is logged at most once per node (or topic) per this interval. */
  rejectLogIntervalMs?: number;
  /** A birth was refused: another install holds the node id and is ONLINE. Tell them (fleet-service). */
  onConflict?: (conflict: NodeIdConflictEvent) => void;
}

export interface NodeIdConflictEvent {
  nodeId: string;
  holderInstallId: string;
  rejectedInstallId: string;
}

export interface Ingest {
  readonly fleet: FleetState;
  readonly history: FleetHistory;
  /** Applies one message; never throws. */
  handle(topic: string, payload: Uint8Array): void;
  counters(): IngestTotals;
  /** Births refused because another install held the node id. */
  idConflicts(): number;
  /** Removes a node and its history (expired, or its retained birth/status cleared). */
  forget(nodeId: string): boolean;
}

const DEFAULT_MAX_NODES = 50_000;
const DEFAULT_REJECT_LOG_INTERVAL_MS = 60_000;
/** Bound the rate limiter under a flood of distinct bad topics: its memory, and log lines per interval. */
const MAX_LOG_KEYS = 10_000;
const MAX_REJECT_LOGS_PER_INTERVAL = 100;

export function createIngest(options: IngestOptions): Ingest {
  const { root, maxPayloadBytes, now } = options;
  const log = options.logger;
  const fleet = createFleet(options.fleet);
  const history = new FleetHistory(options.history);
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const rejectLogIntervalMs = options.rejectLogIntervalMs ?? DEFAULT_REJECT_LOG_INTERVAL_MS;
  const counts = { received: 0, decoded: 0, cleared: 0, idConflicts: 0 };
  const rejected = new Map<RejectReason, number>();
  // key → { when it was last logged, rejections since then that were not logged }
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  let budgetFrom = Number.NEGATIVE_INFINITY;
  let budgetUsed = 0;

  function reject(reason: RejectReason, key: string, topic: string, detail: string): undefined {
    rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    const at = now();
    const entry = lastLogged.get(key);
    if (entry !== undefined && at - entry.at < rejectLogIntervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (entry === undefined && lastLogged.size >= MAX_LOG_KEYS) lastLogged.clear();
    if (at - budgetFrom >= rejectLogIntervalMs) {
      budgetFrom = at;
      budgetUsed = 0;
    }
    if (budgetUsed >= MAX_REJECT_LOGS_PER_INTERVAL) {
      // Too many distinct offenders this interval: counted, and logged with its count next time.
      lastLogged.set(key, { at, suppressed: (entry?.suppressed ?? 0) + 1 });
      return undefined;
    }
    budgetUsed++;
    log.warn({ reason, topic, detail, suppressed: entry?.suppressed ?? 0 }, "telemetry message rejected");
    lastLogged.set(key, { at, suppressed: 0 });
    return undefined;
  }

  function forget(nodeId: string): boolean {
    history.delete(nodeId);
    return fleet.nodes.delete(nodeId);
  }

  function handle(topic: string, payload: Uint8Array): undefined {
    counts.received++;
    const parsed = parseTopic(root, topic);
    if (!parsed.ok) return reject(parsed.reason, topic, topic, parsed.detail);
    const kind = parsed.topic.kind;
    // The coordinator's own topics and schedule traffic are not telemetry: not ours to count.
    if (kind !== "birth" && kind !== "telemetry" && kind !== "nodeStatus") return;
    const nodeId = parsed.topic.nodeId;
    if (payload.byteLength > maxPayloadBytes) {
      return reject("oversized", nodeId, topic, `${payload.byteLength} bytes > limit ${maxPayloadBytes}`);
    }
    // An empty retained birth or status is how MQTT deletes one (`k3s-fleet nodes forget`, expiry): the node
    // is forgotten; if it is still alive, its next message brings it back.
    if (payload.byteLength === 0 && kind !== "telemetry") {
      counts.cleared++;
      forget(nodeId);
      return;
    }
    let node = fleet.nodes.get(nodeId);
    if (node === undefined && fleet.nodes.size >= maxNodes) {
      return reject("node_limit", "node_limit", topic, `${maxNodes} nodes known already`);
    }
    const at = now();
    if (kind === "telemetry") {
      const decoded = decode("telemetry", payload);
      if (!decoded.ok) return reject(decoded.reason, nodeId, topic, decoded.detail);
      counts.decoded++;
      const t = decoded.message;
      const problem = telemetryProblem(t);
      if (problem !== undefined) return reject("invalid", nodeId, topic, problem);
      const range = telemetryRangeProblem(t);
      if (range !== undefined) return reject(range.reason, nodeId, topic, range.detail);
      node ??= nodeFor(fleet, nodeId, at);
      if (node.refusedSessions.includes(t.session)) {
        return reject("id_conflict", nodeId, topic, `session ${t.session} belongs to a refused install`);
      }
      if (applyTelemetry(fleet, node, t, at) !== "duplicate") {
        const ms = node.sampleAtMs;
        history.record(nodeId, intervalOf(fleet, node), ms, cpuPercent(t), memoryPercent(t), moreFigures(t));
      }
    } else if (kind === "birth") {
      const decoded = decode("birth", payload);
      if (!decoded.ok) return reject(decoded.reason, nodeId, topic, decoded.detail);
      counts.decoded++;
      const problem = birthProblem(nodeId, decoded.message);
      if (problem !== undefined) return reject("invalid", nodeId, topic, problem);
      const range = birthRangeProblem(decoded.message);
      if (range !== undefined) return reject(range.reason, nodeId, topic, range.detail);
      node ??= nodeFor(fleet, nodeId, at);
      const holderInstallId = node.installId;
      if (applyClaim(fleet, node, decoded.message, at) === "conflict") {
        counts.idConflicts++;
        const rejectedInstallId = decoded.message.installId;
        log.error(
          { nodeId, holderInstallId, rejectedInstallId },
          `node id conflict: a second machine (install ${rejectedInstallId}) claims node id "${nodeId}", ` +
            `held by install ${holderInstallId}; it is told to stop`,
        );
        options.onConflict?.({ nodeId, holderInstallId, rejectedInstallId });
      }
    } else {
      const decoded = decode("nodeStatus", payload);
      if (!decoded.ok) return reject(decoded.reason, nodeId, topic, decoded.detail);
      counts.decoded++;
      const problem = statusProblem(decoded.message);
      if (problem !== undefined) return reject("invalid", nodeId, topic, problem);
      node ??= nodeFor(fleet, nodeId, at);
      if (isForeignStatus(node, decoded.message)) {
        return reject("id_conflict", nodeId, topic, `status from install ${decoded.message.installId}`);
      }
      applyStatus(node, decoded.message, at);
    }
  }

  return {
    fleet,
    history,
    handle(topic, payload) {
      try {
        handle(topic, payload);
      } catch (error) {
        // A bug here must not take the listener down; counted so it shows in the report.
        reject("internal", topic, topic, error instanceof Error ? error.message : String(error));
      }
    },
    counters() {
      const { totals } = fleet;
      return {
        received: counts.received,
        decoded: counts.decoded,
        cleared: counts.cleared,
        duplicates: totals.duplicates,
        gaps: totals.gaps,
        rejected: Object.fromEntries(rejected),
      };
    },
    idConflicts: () => counts.idConflicts,
    forget,
  };
}
