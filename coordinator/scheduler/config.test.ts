import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from "./config.ts";
import { SchedulerConfigError } from "./errors.ts";

describe("scheduler config", () => {
  it("defaults to kube-scheduler's weights where it has one", () => {
    expect(DEFAULT_SCHEDULER_CONFIG.weights).toEqual({
      resourceAllocation: 1,
      balancedAllocation: 1,
      taintToleration: 3,
      nodeAffinity: 2,
      spread: 2,
      liveLoad: 2,
      interPodAffinity: 2,
    });
    expect(DEFAULT_SCHEDULER_CONFIG.scoringStrategy).toBe("LeastAllocated");
    expect(DEFAULT_SCHEDULER_CONFIG.liveLoad.targetUtilizationPercent).toBe(40);
    expect(resolveSchedulerConfig()).toEqual(DEFAULT_SCHEDULER_CONFIG);
  });

  it("merges a partial config over the defaults", () => {
    const c = resolveSchedulerConfig({ weights: { liveLoad: 5 }, live: { requireTelemetry: true } });
    expect(c.weights.liveLoad).toBe(5);
    expect(c.weights.taintToleration).toBe(3);
    expect(c.live.requireTelemetry).toBe(true);
    expect(c.live.staleAfterIntervals).toBe(3);
  });

  it("fails fast listing every problem", () => {
    let caught: unknown;
    try {
      resolveSchedulerConfig({
        weights: { spread: -1, liveLoad: 1.5 },
        scoringStrategy: "Random" as never,
        resources: [{ name: "gpu" as never, weight: 0 }],
        liveLoad: { targetUtilizationPercent: 100 },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchedulerConfigError);
    const e = caught as SchedulerConfigError;
    expect(e.code).toBe("K3SF_ERR_SCHEDULER_CONFIG");
    expect(e.problems).toEqual([
      "weights.spread must be an integer from 0 to 100, got -1",
      "weights.liveLoad must be an integer from 0 to 100, got 1.5",
      'scoringStrategy must be LeastAllocated or MostAllocated, got "Random"',
      'resources[0].name: "gpu" is not cpu, memory, ephemeral-storage or an extended resource (e.g. nvidia.com/gpu)',
      "resources[0].weight must be an integer from 1 to 100, got 0",
      "liveLoad.targetUtilizationPercent must be an integer from 1 to 99, got 100",
    ]);
  });
});
