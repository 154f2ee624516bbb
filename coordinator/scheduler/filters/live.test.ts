import { describe, expect, it } from "vitest";
import { makeNode, makePod, runFilter } from "../../../test/support/scheduler.ts";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from "../config.ts";
import type { LiveTelemetry } from "../snapshot.ts";
import { buildSnapshot } from "../snapshot.ts";
import { agentTelemetry, livePressure } from "./live.ts";

const live = (o: Partial<LiveTelemetry> = {}): LiveTelemetry => ({
  online: true,
  ageMs: 1_000,
  intervalMs: 10_000,
  cpuPercent: 20,
  memoryPercent: 30,
  diskMaxPercent: 40,
  ...o,
});

describe("AgentTelemetry filter", () => {
  const cases: Array<[string, LiveTelemetry | undefined, boolean, string | null]> = [
    ["healthy agent", live(), false, null],
    ["no telemetry, not required: may simply have no agent", undefined, false, null],
    ["no telemetry, required", undefined, true, "node(s) had no agent telemetry"],
    ["offline agent on a Ready node", live({ online: false }), false, "node(s) had an offline agent"],
    ["exactly 3 intervals old is still fresh", live({ ageMs: 30_000 }), false, null],
    ["older than 3 intervals is stale", live({ ageMs: 30_001 }), false, "node(s) had stale agent telemetry"],
  ];
  it.each(cases)("%s", (_name, telemetry, requireTelemetry, want) => {
    const config = resolveSchedulerConfig({ live: { requireTelemetry } });
    const input = telemetry ? { node: makeNode("n1"), live: telemetry } : { node: makeNode("n1") };
    expect(runFilter(agentTelemetry, input, makePod("p"), config)).toBe(want);
  });

  it("ages telemetry by the time since the snapshot was taken", () => {
    const snapshot = buildSnapshot({
      nodes: [{ node: makeNode("n1"), live: live({ ageMs: 5_000 }) }],
      takenAt: 100_000,
    });
    const ctx = (now: number) => ({ snapshot, pod: {} as never, config: DEFAULT_SCHEDULER_CONFIG, now });
    const node = snapshot.nodes[0] as (typeof snapshot.nodes)[number];
    expect(agentTelemetry.check(node, ctx(125_000))).toBeNull();
    expect(agentTelemetry.check(node, ctx(125_001))).toBe("node(s) had stale agent telemetry");
  });

  it("honours a configured number of intervals", () => {
    const config = resolveSchedulerConfig({ live: { staleAfterIntervals: 1 } });
    expect(
      runFilter(
        agentTelemetry,
        { node: makeNode("n1"), live: live({ ageMs: 10_001 }) },
        makePod("p"),
        config,
      ),
    ).toBe("node(s) had stale agent telemetry");
  });
});

describe("LivePressure filter", () => {
  const cases: Array<[string, Partial<LiveTelemetry>, string | readonly string[] | null]> = [
    ["below every threshold", {}, null],
    ["cpu at the threshold is not pressure", { cpuPercent: 95 }, null],
    ["cpu above", { cpuPercent: 95.5 }, "node(s) had cpu pressure"],
    ["memory above", { memoryPercent: 99 }, "node(s) had memory pressure"],
    ["disk above", { diskMaxPercent: 91 }, "node(s) had disk pressure"],
    [
      "all three",
      { cpuPercent: 100, memoryPercent: 100, diskMaxPercent: 100 },
      ["node(s) had cpu pressure", "node(s) had memory pressure", "node(s) had disk pressure"],
    ],
  ];
  it.each(cases)("%s", (_name, o, want) => {
    expect(runFilter(livePressure, { node: makeNode("n1"), live: live(o) }, makePod("p"))).toEqual(want);
  });

  it("uses configured thresholds and ignores nodes without telemetry", () => {
    const config = resolveSchedulerConfig({ live: { cpuPressurePercent: 50 } });
    expect(
      runFilter(livePressure, { node: makeNode("n1"), live: live({ cpuPercent: 60 }) }, makePod("p"), config),
    ).toBe("node(s) had cpu pressure");
    expect(runFilter(livePressure, { node: makeNode("n1") }, makePod("p"), config)).toBeNull();
  });
});
