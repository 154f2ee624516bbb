// Our filters on the agent's live signals, run after kube-scheduler's so that a node Kubernetes would
// reject anyway is explained in Kubernetes' words. They catch what Kubernetes cannot see yet: an agent
// gone offline or silent while the node is still Ready, and real CPU/memory/disk pressure.
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
} from "../columns.ts";
import { defineFilter, type FilterResult, type PluginContext } from "../plugins.ts";

export const REASON_NO_TELEMETRY = "node(s) had no agent telemetry";
export const REASON_OFFLINE = "node(s) had an offline agent";
export const REASON_STALE = "node(s) had stale agent telemetry";
export const REASON_CPU_PRESSURE = "node(s) had cpu pressure";
export const REASON_MEMORY_PRESSURE = "node(s) had memory pressure";
export const REASON_DISK_PRESSURE = "node(s) had disk pressure";

export interface AgentState {
  readonly live: Float64Array;
  readonly sinceSnapshot: number;
  readonly intervals: number;
  readonly noTelemetry: string | null;
}

export const prepareAgent = ({ snapshot, config, now }: PluginContext): AgentState => ({
  live: snapshot.columns.live,
  sinceSnapshot: snapshot.takenAt === undefined ? 0 : Math.max(0, now - snapshot.takenAt),
  intervals: config.live.staleAfterIntervals,
  noTelemetry: config.live.requireTelemetry ? REASON_NO_TELEMETRY : null,
});

export function agentAt(s: AgentState, i: number): string | null {
  const l = i * LIVE;
  const live = s.live;
  const state = live[l + LIVE_STATE] as number;
  if (state === NO_TELEMETRY) return s.noTelemetry;
  if (state === OFFLINE) return REASON_OFFLINE;
  return (live[l + AGE_MS] as number) + s.sinceSnapshot > s.intervals * (live[l + INTERVAL_MS] as number)
    ? REASON_STALE
    : null;
}

export const agentTelemetry = defineFilter({ name: "AgentTelemetry", prepare: prepareAgent, at: agentAt });

// All combinations of the three pressure reasons, shared and frozen (bit 1 cpu, 2 memory, 4 disk).
const PRESSURE: readonly FilterResult[] = Array.from({ length: 8 }, (_, flags) => {
  const reasons: string[] = [];
  if (flags & 1) reasons.push(REASON_CPU_PRESSURE);
  if (flags & 2) reasons.push(REASON_MEMORY_PRESSURE);
  if (flags & 4) reasons.push(REASON_DISK_PRESSURE);
  return reasons.length === 0 ? null : reasons.length === 1 ? (reasons[0] as string) : Object.freeze(reasons);
});

const pressureOf = (
  cpu: number,
  memory: number,
  disk: number,
  t: PluginContext["config"]["live"],
): FilterResult =>
  PRESSURE[
    (cpu > t.cpuPressurePercent ? 1 : 0) |
      (memory > t.memoryPressurePercent ? 2 : 0) |
      (disk > t.diskPressurePercent ? 4 : 0)
  ] as FilterResult;

export interface PressureState {
  readonly live: Float64Array;
  readonly thresholds: PluginContext["config"]["live"];
}

export const preparePressure = ({ snapshot, config }: PluginContext): PressureState => ({
  live: snapshot.columns.live,
  thresholds: config.live,
});

export function pressureAt(s: PressureState, i: number): FilterResult {
  const l = i * LIVE;
  const live = s.live;
  if (live[l + LIVE_STATE] === NO_TELEMETRY) return null;
  return pressureOf(
    live[l + CPU_PERCENT] as number,
    live[l + MEMORY_PERCENT] as number,
    live[l + DISK_PERCENT] as number,
    s.thresholds,
  );
}

export const livePressure = defineFilter({ name: "LivePressure", prepare: preparePressure, at: pressureAt });
