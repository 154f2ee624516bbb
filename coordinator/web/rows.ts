// The fleet table's rows and the deltas between two sets of them. Pure: fleet state and `now` in, plain
// JSON-ready objects out. Figures are rounded to what the page shows, so a delta carries only nodes whose
// shown values changed.
import { NodeHealth } from "../../proto/index.ts";
import { type FleetState, type NodeState, nodeHealth } from "../fleet/state.ts";

export type RowState = "online" | "stale" | "offline";

export interface FleetRow {
  id: string;
  host: string;
  state: RowState;
  /** When the node entered `state` (coordinator clock, epoch ms). */
  since: number;
  cpu: number;
  mem: number;
  /** Fullest filesystem, percent. */
  disk: number;
  load: number;
  /** CPU temperature in °C; null when the node reports none. */
  temp: number | null;
  /** Last telemetry received (epoch ms); null before the first. */
  seen: number | null;
  /** Network receive / transmit, bytes per second. */
  rx: number;
  tx: number;
  labels: Record<string, string>;
  /** Kubernetes node name the agent joins (its birth's k8s_node_name, else its id). */
  k8s: string;
  /** Pods bound to that Kubernetes node; null without a cluster. */
  pods: number | null;
}

export interface StateCounts {
  total: number;
  online: number;
  stale: number;
  offline: number;
}

export interface RowsDelta {
  upsert: FleetRow[];
  remove: string[];
}

const STATE_NAME: Record<number, RowState> = {
  [NodeHealth.ONLINE]: "online",
  [NodeHealth.STALE]: "stale",
  [NodeHealth.OFFLINE]: "offline",
};

/** Remembers when each node entered its current state, across ticks. */
export class StateClock {
  readonly #seen = new Map<string, { state: RowState; since: number }>();

  /**
   * When `node` entered `state`. Silence is timed exactly (the threshold it crossed); a node first seen
   * is estimated from the fleet state (its last sign of life); other changes are timed by `now`, the
   * tick that saw them.
   */
  since(fleet: FleetState, node: NodeState, state: RowState, now: number): number {
    const known = this.#seen.get(node.nodeId);
    if (known !== undefined && known.state === state) return known.since;
    const bySilence = state === "stale" || (state === "offline" && !node.offline);
    const since = known === undefined || bySilence ? estimateSince(fleet, node, state, now) : now;
    this.#seen.set(node.nodeId, { state, since });
    return since;
  }

  /** Forgets nodes no longer in the fleet. */
  retain(ids: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const id of this.#seen.keys()) if (!ids.has(id)) this.#seen.delete(id);
  }

  clear(): void {
    this.#seen.clear();
  }
}

function estimateSince(fleet: FleetState, node: NodeState, state: RowState, now: number): number {
  const lastAlive = Math.max(node.lastTelemetryAtMs ?? Number.NEGATIVE_INFINITY, node.aliveAtMs);
  const interval = node.intervalMs ?? fleet.options.defaultIntervalMs;
  if (state === "stale") return Math.min(now, lastAlive + fleet.options.staleAfterIntervals * interval);
  if (state === "offline" && !node.offline && fleet.options.offlineAfterIntervals > 0)
    return Math.min(now, lastAlive + fleet.options.offlineAfterIntervals * interval);
  if (state === "offline") return Math.min(now, lastAlive);
  return Math.min(now, node.aliveAtMs);
}

const round1 = (v: number) => Math.round(v * 10) / 10;
/** Network rates to the KiB/s the page shows. */
const roundRate = (v: bigint | number | undefined) => Math.round(Number(v ?? 0) / 1024) * 1024;

export function fleetRow(
  fleet: FleetState,
  node: NodeState,
  now: number,
  clock: StateClock,
  podsByNode?: ReadonlyMap<string, number>,
): FleetRow {
  const state = STATE_NAME[nodeHealth(fleet, node, now)] ?? "offline";
  const birth = node.birth;
  const t = node.latest;
  const k8s = birth?.k8sNodeName || node.nodeId;
  return {
    id: node.nodeId,
    host: birth?.hostname ?? "",
    state,
    since: clock.since(fleet, node, state, now),
    cpu: round1(t?.cpuPercent ?? 0),
    mem: round1(t?.memoryPercent ?? 0),
    disk: round1(t?.diskMaxUsePercent ?? 0),
    load: Math.round((t?.load1m ?? 0) * 100) / 100,
    temp: t?.cpuTemperatureCelsius === undefined ? null : round1(t.cpuTemperatureCelsius),
    seen: node.lastTelemetryAtMs ?? null,
    rx: roundRate(t?.rxBytesPerSec),
    tx: roundRate(t?.txBytesPerSec),
    labels: birth?.labels ?? {},
    k8s,
    pods: podsByNode === undefined ? null : (podsByNode.get(k8s) ?? 0),
  };
}

/** Rows of every node, by id. */
export function fleetRows(
  fleet: FleetState,
  now: number,
  clock: StateClock,
  podsByNode?: ReadonlyMap<string, number>,
): Map<string, FleetRow> {
  const rows = new Map<string, FleetRow>();
  for (const node of fleet.nodes.values())
    rows.set(node.nodeId, fleetRow(fleet, node, now, clock, podsByNode));
  clock.retain(rows);
  return rows;
}

/**
 * Rows of every node, rebuilt only for nodes that changed since the last call (a new message, a new state,
 * another pod count); the others keep their row object, so `diffRows` skips them by identity. At 10,000
 * nodes sampling every 5 s this builds about a fifth of the rows each second.
 */
/** Nodes per slice when rows are built in slices: a millisecond or two of work each. */
export const ROWS_SLICE_NODES = 1000;

export class FleetRowsBuilder {
  readonly clock = new StateClock();
  #rows = new Map<string, FleetRow>();
  readonly #stamps = new Map<
    string,
    { received: number; session: bigint; offline: boolean; birth: unknown }
  >();

  build(fleet: FleetState, now: number, podsByNode?: ReadonlyMap<string, number>): Map<string, FleetRow> {
    const slices = this.buildInSlices(fleet, now, podsByNode, Number.POSITIVE_INFINITY);
    for (;;) {
      const step = slices.next();
      if (step.done) return step.value;
    }
  }

  /**
   * The same, `sliceNodes` nodes at a time: the generator pauses between slices so that the caller can let
   * ingest run (coordinator/report/run-sliced.ts). Nodes added meanwhile show up in the next build.
   */
  *buildInSlices(
    fleet: FleetState,
    now: number,
    podsByNode?: ReadonlyMap<string, number>,
    sliceNodes = ROWS_SLICE_NODES,
  ): Generator<void, Map<string, FleetRow>> {
    const rows = new Map<string, FleetRow>();
    let inSlice = 0;
    for (const node of [...fleet.nodes.values()]) {
      if (inSlice++ === sliceNodes) {
        inSlice = 1;
        yield;
      }
      const id = node.nodeId;
      const old = this.#rows.get(id);
      const stamp = this.#stamps.get(id);
      if (
        old !== undefined &&
        stamp !== undefined &&
        stamp.received === node.received &&
        stamp.session === node.session &&
        stamp.offline === node.offline &&
        stamp.birth === node.birth &&
        old.state === STATE_NAME[nodeHealth(fleet, node, now)] &&
        old.pods === (podsByNode === undefined ? null : (podsByNode.get(old.k8s) ?? 0))
      ) {
        rows.set(id, old);
        continue;
      }
      rows.set(id, fleetRow(fleet, node, now, this.clock, podsByNode));
      this.#stamps.set(id, {
        received: node.received,
        session: node.session,
        offline: node.offline,
        birth: node.birth,
      });
    }
    for (const id of this.#stamps.keys()) if (!rows.has(id)) this.#stamps.delete(id);
    this.clock.retain(rows);
    this.#rows = rows;
    return rows;
  }

  clear(): void {
    this.#rows = new Map();
    this.#stamps.clear();
    this.clock.clear();
  }
}

export function countStates(rows: Iterable<FleetRow>): StateCounts {
  const counts: StateCounts = { total: 0, online: 0, stale: 0, offline: 0 };
  for (const row of rows) {
    counts.total++;
    counts[row.state]++;
  }
  return counts;
}

/** What changed from `before` to `after`: rows new or with any field changed, and ids gone. */
export function diffRows(
  before: ReadonlyMap<string, FleetRow>,
  after: ReadonlyMap<string, FleetRow>,
): RowsDelta {
  const upsert: FleetRow[] = [];
  const remove: string[] = [];
  for (const [id, row] of after) {
    const old = before.get(id);
    if (old === row) continue;
    if (old === undefined || !sameRow(old, row)) upsert.push(row);
  }
  for (const id of before.keys()) if (!after.has(id)) remove.push(id);
  return { upsert, remove };
}

function sameRow(a: FleetRow, b: FleetRow): boolean {
  return (
    a.state === b.state &&
    a.since === b.since &&
    a.cpu === b.cpu &&
    a.mem === b.mem &&
    a.disk === b.disk &&
    a.load === b.load &&
    a.temp === b.temp &&
    a.seen === b.seen &&
    a.rx === b.rx &&
    a.tx === b.tx &&
    a.host === b.host &&
    a.k8s === b.k8s &&
    a.pods === b.pods &&
    (a.labels === b.labels || sameLabels(a.labels, b.labels))
  );
}

export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}
