// Current live signals on a reused snapshot. Building a snapshot parses every pod's quantities, so it is
// kept across decisions; the agents' samples keep coming. A node's telemetry ages with the snapshot
// (AGE_MS + time since takenAt), which can only overstate its age: a node looks stale or silent when a
// sample came in since. So before a decision, every node whose sample looks more than one of its
// intervals old — the earliest any verdict can change (stale after k ≥ 1 intervals, offline later) — is
// read again from the fleet, and its age is rebased onto the snapshot's takenAt. Nodes reporting on time
// are left alone, so each node is re-read about once per interval however many decisions are made.
// Pure: O(nodes) over a typed array, plus one `liveOf` per node re-read.
import { AGE_MS, INTERVAL_MS, LIVE, LIVE_STATE, NO_TELEMETRY, packLive } from "./columns.ts";
import type { LiveTelemetry, NodeInfo, Snapshot } from "./snapshot.ts";

/**
 * Sets a node's live signals, measured at `now`, on the snapshot (NodeInfo and its packed record). Ages
 * are kept relative to takenAt, so the engine's AGE_MS + (now - takenAt) is the age at `now`.
 */
export function setLive(
  snapshot: Snapshot,
  node: NodeInfo,
  fresh: LiveTelemetry | undefined,
  now: number,
): void {
  const since = snapshot.takenAt === undefined ? 0 : Math.max(0, now - snapshot.takenAt);
  node.live = fresh === undefined ? undefined : { ...fresh, ageMs: fresh.ageMs - since };
  packLive(snapshot.columns, node);
}

/**
 * Re-reads the live signals of every node that looks silent for more than an interval at `now`.
 * `liveOf(name)` gives the node's signals measured at `now`. Returns how many nodes were re-read.
 */
export function refreshLive(
  snapshot: Snapshot,
  liveOf: (name: string) => LiveTelemetry | undefined,
  now: number,
): number {
  const columns = snapshot.columns.live;
  const since = snapshot.takenAt === undefined ? 0 : Math.max(0, now - snapshot.takenAt);
  const nodes = snapshot.nodes;
  let reread = 0;
  for (let i = 0; i < nodes.length; i++) {
    const l = i * LIVE;
    if (columns[l + LIVE_STATE] === NO_TELEMETRY) continue; // no agent: a new one rebuilds the snapshot
    if ((columns[l + AGE_MS] as number) + since <= (columns[l + INTERVAL_MS] as number)) continue;
    const node = nodes[i] as NodeInfo;
    const fresh = liveOf(node.name);
    reread++;
    if (fresh === undefined) continue; // the agent left: its birth/status rebuilds the snapshot
    setLive(snapshot, node, fresh, now);
  }
  return reread;
}
