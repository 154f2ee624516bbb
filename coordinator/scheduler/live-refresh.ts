// Fresh live telemetry on a reused snapshot. Building a snapshot parses every pod's quantities, so it is
// kept across decisions; the agents' signals change every interval, so they are written in again at
// decision time: a node is judged on what its agent said last, not on what it said when the snapshot was
// built. Pure: O(nodes), no allocation besides what `liveOf` returns.
import {
  AGE_MS,
  CPU_PERCENT,
  DISK_PERCENT,
  INTERVAL_MS,
  LIVE,
  LIVE_STATE,
  MEMORY_PERCENT,
  NO_TELEMETRY,
  OFFLINE,
  ONLINE,
} from "./columns.ts";
import type { LiveTelemetry, NodeInfo, Snapshot } from "./snapshot.ts";

/** Replaces every node's live signals with `liveOf(name)`, measured at `takenAt`. */
export function refreshLive(
  snapshot: Snapshot,
  liveOf: (name: string) => LiveTelemetry | undefined,
  takenAt: number,
): void {
  const columns = snapshot.columns.live;
  for (const node of snapshot.nodes as NodeInfo[]) {
    const live = liveOf(node.name);
    node.live = live;
    const l = node.index * LIVE;
    if (live === undefined) {
      columns[l + LIVE_STATE] = NO_TELEMETRY;
      columns[l + CPU_PERCENT] = 0;
      columns[l + MEMORY_PERCENT] = 0;
      columns[l + DISK_PERCENT] = 0;
      columns[l + AGE_MS] = 0;
      columns[l + INTERVAL_MS] = 0;
      continue;
    }
    columns[l + LIVE_STATE] = live.online ? ONLINE : OFFLINE;
    columns[l + CPU_PERCENT] = live.cpuPercent;
    columns[l + MEMORY_PERCENT] = live.memoryPercent;
    columns[l + DISK_PERCENT] = live.diskMaxPercent;
    columns[l + AGE_MS] = live.ageMs;
    columns[l + INTERVAL_MS] = live.intervalMs;
  }
  snapshot.takenAt = takenAt;
}
