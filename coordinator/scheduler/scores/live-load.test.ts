import { describe, expect, it } from "vitest";
import { makeNode, makePod, runScore } from "../../../test/support/scheduler.ts";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from "../config.ts";
import type { LiveTelemetry } from "../snapshot.ts";
import { liveLoadPlugin, predictCpuMilli, targetLoadScore } from "./live-load.ts";

const live = (cpuPercent: number, o: Partial<LiveTelemetry> = {}): LiveTelemetry => ({
  online: true,
  ageMs: 0,
  intervalMs: 10_000,
  cpuPercent,
  memoryPercent: 10,
  diskMaxPercent: 10,
  ...o,
});
const oneCore = (name: string, telemetry?: LiveTelemetry) => ({
  node: makeNode(name, {
    allocatable: { cpu: "1000m", memory: "1Gi", pods: "10" },
    capacity: { cpu: "1000m", memory: "1Gi" },
  }),
  ...(telemetry ? { live: telemetry } : {}),
});

// kubernetes-sigs/scheduler-plugins targetloadpacking_test.go TestTargetLoadPackingScoring
describe("live-load score (Trimaran TargetLoadPacking)", () => {
  it("new node: 0 % used, pod without containers → the target, 40", () => {
    expect(runScore(liveLoadPlugin, [oneCore("node-1", live(0))], makePod("p"))).toEqual([40]);
  });
  it("hot node: target + 10 % → 33", () => {
    expect(runScore(liveLoadPlugin, [oneCore("node-1", live(50))], makePod("p"))).toEqual([33]);
  });
  it("excess utilisation returns the minimum score", () => {
    const pod = makePod("p", { requests: [{ cpu: "1000m" }], limits: [{ cpu: "1000m" }] });
    expect(runScore(liveLoadPlugin, [oneCore("node-1", live(30))], pod)).toEqual([0]);
  });
  it("a node without telemetry gets the neutral score (documented default 50)", () => {
    expect(runScore(liveLoadPlugin, [oneCore("node-1")], makePod("p"))).toEqual([
      DEFAULT_SCHEDULER_CONFIG.liveLoad.neutralScore,
    ]);
  });
  it("prefers the idle node over the busy one", () => {
    expect(
      runScore(liveLoadPlugin, [oneCore("idle", live(10)), oneCore("busy", live(85))], makePod("p")),
    ).toEqual([55, 10]);
  });

  it("targetLoadScore follows the piecewise formula around the target", () => {
    expect(targetLoadScore(0, 40)).toBe(40);
    expect(targetLoadScore(20, 40)).toBe(70);
    expect(targetLoadScore(40, 40)).toBe(100);
    expect(targetLoadScore(70, 40)).toBe(20);
    expect(targetLoadScore(100, 40)).toBe(0);
    expect(targetLoadScore(100.5, 40)).toBe(0);
    expect(targetLoadScore(50, 60)).toBe(93);
  });

  it("predicts container CPU like PredictUtilisation: limit, else request × 1.5, else 1000m", () => {
    const args = DEFAULT_SCHEDULER_CONFIG.liveLoad;
    expect(
      predictCpuMilli(makePod("p", { requests: [{ cpu: "200m" }], limits: [{ cpu: "500m" }] }), args),
    ).toBe(500);
    expect(predictCpuMilli(makePod("p", { requests: [{ cpu: "200m" }] }), args)).toBe(300);
    expect(predictCpuMilli(makePod("p", { containers: [{ name: "c" }] }), args)).toBe(1000);
    expect(
      predictCpuMilli(makePod("p", { requests: [{ cpu: "100m" }], overhead: { cpu: "50m" } }), args),
    ).toBe(200);
  });

  it("uses the configured target", () => {
    const config = resolveSchedulerConfig({ liveLoad: { targetUtilizationPercent: 60 } });
    expect(runScore(liveLoadPlugin, [oneCore("n", live(0))], makePod("p"), config)).toEqual([60]);
  });
});
