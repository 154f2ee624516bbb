// Fleet state: what the coordinator knows about every node, built from births, statuses and telemetry.
// Pure: every function takes the message and an explicit `now`. This is the ingest hot path, so state is
// mutated in place and the in-order telemetry path allocates nothing.

import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  type NodeBirth,
  NodeHealth,
  type NodeStatus,
  type NodeTelemetry,
  PeerState,
  timestampMs,
} from "../../proto/index.ts";
import { LiveSample } from "./live-sample.ts";
import { SeqWindow } from "./seq.ts";

export interface FleetOptions {
  /** Sampling interval assumed for a node until its birth says otherwise. */
  defaultIntervalMs: number;
  /** A node is STALE after this many sampling intervals without telemetry... */
  staleAfterIntervals: number;
  /** ...and OFFLINE after this many, in case its Will never comes; 0 = only the Will makes it OFFLINE. */
  offlineAfterIntervals: number;
}

/** Earlier sessions whose seqs are remembered per node (a few hundred bytes each while they have gaps). */
export const MAX_PAST_SESSIONS = 64;
const MAX_REFUSED_SESSIONS = 8;

/** Everything known about one node. Fields are read by reports; only this module writes them. */
export class NodeState {
  readonly nodeId: string;
  /** Latest birth of the current session (or an earlier one when this session's was not seen). */
  birth: NodeBirth | undefined = undefined;
  /** Highest agent session seen in a birth, status or telemetry. */
  session = 0n;
  /** The node said it is gone (status OFFLINE, usually its Will) for the current session. */
  offline = false;
  /**
   * When the node last showed it was alive without telemetry: the time stamped on its birth or ONLINE
   * status (on the coordinator clock, never in the future), so a retained status replayed after a
   * coordinator restart or reconnect does not make a long-silent node look fresh.
   */
  aliveAtMs: number;
  /** When the coordinator last received anything from this node (its own clock): what expiry counts from. */
  heardAtMs: number;
  /** Latest live telemetry sample (overwritten in place), and when it was received (coordinator clock). */
  latest: LiveSample | undefined = undefined;
  lastTelemetryAtMs: number | undefined = undefined;
  /** Coordinator clock minus agent clock, from the latest live sample; places replayed samples in time. */
  clockOffsetMs = 0;
  /** Coordinator-clock time of the last sample `applyTelemetry` accepted; NaN when it cannot be placed. */
  sampleAtMs = Number.NaN;
  /** Valid telemetry messages for this node, duplicates included. */
  received = 0;
  duplicates = 0;
  /** Seqs skipped and not (yet) filled by a late message. */
  gaps = 0;
  /** Accepted samples flagged historical (replayed from the agent's buffer). */
  historical = 0;
  /** Seqs of the current session. */
  current = new SeqWindow();
  /**
   * Seqs of earlier sessions, up to MAX_PAST_SESSIONS (the lowest is forgotten first): an agent that
   * buffered across several failed connects replays samples of each of those sessions.
   */
  past = new Map<bigint, SeqWindow>();
  /** NodeBirth.install_id of the install that holds this node id; "" before one is known. */
  installId = "";
  /** Births refused from another install while this one held the node id, and the last one refused. */
  idConflicts = 0;
  conflictingInstallId = "";
  /**
   * Sessions announced by refused installs and not (yet) used by the holder: their telemetry is dropped
   * (the last few only). A refused install's telemetry in the holder's own session is told apart by seq.
   */
  refusedSessions: bigint[] = [];

  constructor(nodeId: string, now: number) {
    this.nodeId = nodeId;
    this.aliveAtMs = now;
    this.heardAtMs = now;
  }

  get intervalMs(): number | undefined {
    const interval = this.birth?.intervalMs;
    return interval !== undefined && interval > 0 ? interval : undefined;
  }
}

export interface FleetTotals {
  /** Telemetry samples accepted (live, late and historical). */
  applied: number;
  duplicates: number;
  /** Net gaps: skipped seqs minus the ones filled later. */
  gaps: number;
  historical: number;
}

export interface FleetState {
  readonly options: Readonly<FleetOptions>;
  readonly nodes: Map<string, NodeState>;
  readonly totals: FleetTotals;
}

/** `options` come resolved from the config schema (cli/config/defaults.ts fleetSettings). */
export function createFleet(options: FleetOptions): FleetState {
  return {
    options: { ...options },
    nodes: new Map(),
    totals: { applied: 0, duplicates: 0, gaps: 0, historical: 0 },
  };
}

/** The node's state, created on first contact. */
export function nodeFor(fleet: FleetState, nodeId: string, now: number): NodeState {
  let node = fleet.nodes.get(nodeId);
  if (node === undefined) {
    node = new NodeState(nodeId, now);
    fleet.nodes.set(nodeId, node);
  }
  return node;
}

// --- validation: a message that decodes but breaks the contract is rejected as "invalid" -------------

export function telemetryProblem(t: NodeTelemetry): string | undefined {
  if (t.session === 0n) return "telemetry without session";
  if (t.seq === 0n) return "telemetry seq must start at 1";
  if (t.seq > BigInt(Number.MAX_SAFE_INTEGER)) return "telemetry seq out of range";
  return undefined;
}

export function birthProblem(nodeId: string, b: NodeBirth): string | undefined {
  if (b.session === 0n) return "birth without session";
  if (b.nodeId !== "" && b.nodeId !== nodeId) return `birth names node "${b.nodeId}" on another node's topic`;
  return undefined;
}

export function statusProblem(s: NodeStatus): string | undefined {
  if (s.session === 0n) return "status without session";
  if (s.state !== PeerState.ONLINE && s.state !== PeerState.OFFLINE) return "status state unspecified";
  return undefined;
}

// --- apply ----------------------------------------------------------------------------------------------

/** `stale_session`: from a session older than the current one; ignored. */
export type BirthOutcome = "new_session" | "updated" | "stale_session";

/**
 * A birth opens a session (clearing OFFLINE) or refreshes the facts of the current one. A birth with a
 * lower session but a later time than the current birth means the agent lost its persisted session
 * counter (new disk, wiped state dir) and is accepted as a new session.
 */
export function applyBirth(node: NodeState, birth: NodeBirth, now: number): BirthOutcome {
  node.heardAtMs = now;
  if (birth.session > node.session || agentWasReset(node, birth)) {
    startSession(node, birth.session, signOfLife(node, birth.time, now));
    node.birth = birth;
    return "new_session";
  }
  if (birth.session < node.session) return "stale_session";
  // Same session: refresh the facts; an OFFLINE already announced for it stands (retained messages
  // arrive in any order after a coordinator restart).
  node.birth = birth;
  return "updated";
}

export type StatusOutcome = "online" | "offline" | "stale_session";

/**
 * ONLINE/OFFLINE for the current (or a newer) session. A status from an older session is ignored: the
 * Will of a previous connection can arrive after the birth of the next one.
 */
export function applyStatus(node: NodeState, status: NodeStatus, now: number): StatusOutcome {
  node.heardAtMs = now;
  const session = status.session;
  if (session < node.session || node.past.has(session)) return "stale_session";
  const aliveAt = signOfLife(node, status.time, now);
  if (session > node.session) startSession(node, session, aliveAt);
  if (status.state === PeerState.OFFLINE) {
    node.offline = true;
    return "offline";
  }
  node.offline = false;
  if (aliveAt > node.aliveAtMs) node.aliveAtMs = aliveAt;
  return "online";
}

/**
 * `live`: newest sample of the current session (becomes `latest`); `late`: fills a gap; `historical`:
 * replayed from the agent's buffer (flagged, or from an earlier session); `duplicate`: dropped (seen
 * before, or too old in its session's window to tell).
 */
export type TelemetryOutcome = "live" | "late" | "historical" | "duplicate";

/** Applies one telemetry message that passed `telemetryProblem`. Sets `node.sampleAtMs` when accepted. */
export function applyTelemetry(
  fleet: FleetState,
  node: NodeState,
  t: NodeTelemetry,
  now: number,
): TelemetryOutcome {
  node.received++;
  node.heardAtMs = now;
  const session = t.session;
  let window: SeqWindow;
  if (session === node.session) window = node.current;
  else if (node.past.has(session)) window = node.past.get(session) as SeqWindow;
  else if (session > node.session) {
    startSession(node, session, now);
    window = node.current;
  } else window = pastWindow(node, session); // buffered during a connect that never got through
  const outcome = window.accept(Number(t.seq));
  if (outcome === "duplicate") return duplicate(fleet, node);
  const totals = fleet.totals;
  totals.applied++;
  if (outcome === "new") {
    const opened = window.lastGapsOpened;
    if (opened > 0) {
      node.gaps += opened;
      totals.gaps += opened;
    }
  } else {
    node.gaps--;
    totals.gaps--;
  }
  const agentMs = t.time === undefined ? undefined : epochMs(t.time);
  if (outcome === "new" && !t.historical && window === node.current) {
    node.latest ??= new LiveSample();
    node.latest.update(t);
    node.lastTelemetryAtMs = now;
    node.sampleAtMs = now;
    if (agentMs !== undefined) node.clockOffsetMs = now - agentMs;
    return "live";
  }
  node.sampleAtMs = agentMs === undefined ? Number.NaN : Math.min(now, agentMs + node.clockOffsetMs);
  if (t.historical || window !== node.current) {
    node.historical++;
    totals.historical++;
    return "historical";
  }
  return "late";
}

function duplicate(fleet: FleetState, node: NodeState): "duplicate" {
  node.duplicates++;
  fleet.totals.duplicates++;
  return "duplicate";
}

function startSession(node: NodeState, session: bigint, aliveAtMs: number): void {
  if (node.session !== 0n) {
    const retired = node.current;
    node.current = evictPast(node) ?? new SeqWindow();
    node.past.set(retired.session, retired);
  }
  node.current.reset(session);
  node.session = session;
  node.offline = false;
  node.aliveAtMs = aliveAtMs;
}

/** A window for an earlier session first seen now (its samples were buffered). */
function pastWindow(node: NodeState, session: bigint): SeqWindow {
  const window = evictPast(node) ?? new SeqWindow();
  window.reset(session);
  node.past.set(session, window);
  return window;
}

/** Makes room for one more past session: returns the lowest one's window for reuse when full. */
function evictPast(node: NodeState): SeqWindow | undefined {
  if (node.past.size < MAX_PAST_SESSIONS) return undefined;
  let lowest: bigint | undefined;
  for (const session of node.past.keys()) if (lowest === undefined || session < lowest) lowest = session;
  const window = node.past.get(lowest as bigint);
  node.past.delete(lowest as bigint);
  return window;
}

// --- identity: which install holds a node id ------------------------------------------------------------

/**
 * `holder`: the install that holds the node id (or the first one, or an agent without an install id);
 * `takeover`: another install while the holder is not ONLINE (re-flashed, wiped, replaced): a new epoch;
 * `conflict`: another install while the holder is ONLINE: two machines with one node id.
 */
export type Claim = "holder" | "takeover" | "conflict";

export function claimOf(fleet: FleetState, node: NodeState, installId: string, now: number): Claim {
  if (installId === "" || node.installId === "" || installId === node.installId) return "holder";
  return nodeHealth(fleet, node, now) === NodeHealth.ONLINE ? "conflict" : "takeover";
}

/**
 * Applies a birth with its install id: a conflict is counted and the birth refused (its session's
 * telemetry will be dropped); a takeover forgets the old install's sessions, so the new one's are
 * accepted whatever their numbers.
 */
export function applyClaim(
  fleet: FleetState,
  node: NodeState,
  birth: NodeBirth,
  now: number,
): BirthOutcome | "conflict" {
  const claim = claimOf(fleet, node, birth.installId, now);
  if (claim === "conflict") {
    node.idConflicts++;
    node.conflictingInstallId = birth.installId;
    // Session numbers are counters per install and can coincide: the holder's own stay accepted.
    if (birth.session !== node.session && !node.refusedSessions.includes(birth.session)) {
      node.refusedSessions.push(birth.session);
      if (node.refusedSessions.length > MAX_REFUSED_SESSIONS) node.refusedSessions.shift();
    }
    return "conflict";
  }
  if (claim === "takeover") {
    node.past.clear();
    node.current.reset(0n);
    node.session = 0n;
    node.birth = undefined;
    node.refusedSessions = [];
  }
  if (birth.installId !== "") node.installId = birth.installId;
  if (node.refusedSessions.includes(birth.session)) {
    node.refusedSessions = node.refusedSessions.filter((s) => s !== birth.session);
  }
  return applyBirth(node, birth, now);
}

/** A status from an install that does not hold the node id (a refused one's, or its Will). */
export function isForeignStatus(node: NodeState, status: NodeStatus): boolean {
  return status.installId !== "" && node.installId !== "" && status.installId !== node.installId;
}

/** When a birth or status says the node was alive: its own time on the coordinator clock, else now. */
function signOfLife(node: NodeState, time: Timestamp | undefined, now: number): number {
  return time === undefined ? now : Math.min(now, epochMs(time) + node.clockOffsetMs);
}

/** Timestamp → epoch ms without the Date that `timestampMs` builds (this runs once per message). */
function epochMs(ts: Timestamp): number {
  return Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

function agentWasReset(node: NodeState, birth: NodeBirth): boolean {
  if (node.birth === undefined || birth.session >= node.session) return false;
  const known = timestampMs(node.birth.time);
  const incoming = timestampMs(birth.time);
  return known !== undefined && incoming !== undefined && incoming > known;
}

// --- health ---------------------------------------------------------------------------------------------

export function intervalOf(fleet: FleetState, node: NodeState): number {
  return node.intervalMs ?? fleet.options.defaultIntervalMs;
}

/**
 * ONLINE, STALE (no telemetry for `staleAfterIntervals` of the node's interval), or OFFLINE (said so,
 * or silent for `offlineAfterIntervals`). Silence counts from the latest telemetry or sign of life.
 */
export function nodeHealth(fleet: FleetState, node: NodeState, now: number): NodeHealth {
  if (node.offline) return NodeHealth.OFFLINE;
  const { staleAfterIntervals, offlineAfterIntervals } = fleet.options;
  const interval = intervalOf(fleet, node);
  const lastTelemetry = node.lastTelemetryAtMs ?? Number.NEGATIVE_INFINITY;
  const silentMs = now - Math.max(lastTelemetry, node.aliveAtMs);
  if (offlineAfterIntervals > 0) {
    if (silentMs > offlineAfterIntervals * interval) return NodeHealth.OFFLINE;
    if (silentMs > keepaliveDeadlineMs(node, interval)) return NodeHealth.OFFLINE;
  }
  if (silentMs > staleAfterIntervals * interval) return NodeHealth.STALE;
  return NodeHealth.ONLINE;
}

/**
 * How long a node may be silent before its broker must have dropped it: 1.5 × its MQTT keepalive, when
 * its telemetry alone keeps the connection alive (interval ≤ keepalive). A broker may send the Will much
 * later than that (Mosquitto 2.0: 7–14 s at 5 s keepalive); this does not wait for it. Infinite when the
 * birth names no keepalive or the agent samples less often than it pings.
 */
export function keepaliveDeadlineMs(node: NodeState, intervalMs: number): number {
  const keepaliveMs = (node.birth?.keepaliveSeconds ?? 0) * 1000;
  return keepaliveMs > 0 && intervalMs <= keepaliveMs ? 1.5 * keepaliveMs : Number.POSITIVE_INFINITY;
}

// --- expiry ---------------------------------------------------------------------------------------------

/**
 * Nodes OFFLINE and not heard from for longer than `afterMs` by the coordinator's own clock: gone for good
 * (replaced, renamed, removed), so they leave the report. Counted from when messages were received, never
 * from the times agents stamp on them (a Pi without a clock says 1970). 0 or less: never.
 */
export function expiredNodes(fleet: FleetState, now: number, afterMs: number): string[] {
  if (!(afterMs > 0)) return [];
  const expired: string[] = [];
  for (const node of fleet.nodes.values()) {
    if (now - node.heardAtMs > afterMs && nodeHealth(fleet, node, now) === NodeHealth.OFFLINE) {
      expired.push(node.nodeId);
    }
  }
  return expired;
}

// --- sample figures ---------------------------------------------------------------------------------

export { cpuPercent, memoryPercent } from "./live-sample.ts";
