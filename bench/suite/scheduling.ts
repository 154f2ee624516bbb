// Benchmark 4: scheduling decisions at a fixed request rate inside the coordinator process while N nodes
// stream telemetry through it, with the ingest window measured at the same time (loss, latency, CPU).
// The decision path is the scheduling service's advisory one (standalone): snapshot cache over the live
// fleet (agentNodeInputs + liveByNodeName), rebuilt when older than snapshotMaxAgeMs (service default
// 10 s), then `schedule`. Not included: MQTT request decode, policy checks, the decision store, the reply.
import type { ScheduleLoadArgs, ScheduleLoadResult } from "./protocol.ts";
import { type CoordinatorRig, measureWindow, type SimFleet, type WindowResult } from "./rig.ts";

export type SchedulingWindow = WindowResult<ScheduleLoadResult>;

export async function schedulingUnderLoad(
  rig: CoordinatorRig,
  fleet: SimFleet,
  ratePerSecond: number,
  seconds: number,
  drainMs: number,
): Promise<SchedulingWindow> {
  const args: ScheduleLoadArgs = {
    ratePerSecond,
    durationMs: seconds * 1000,
    maxDecisions: Math.ceil(ratePerSecond * seconds),
  };
  return measureWindow(rig, fleet, { seconds, drainMs }, () =>
    rig.child.request<ScheduleLoadResult>("scheduleLoad", args, seconds * 1000 + 60_000),
  );
}
