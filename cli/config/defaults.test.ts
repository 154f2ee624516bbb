// The schema holds every product default. Modules that can run without the CLI (tests, benches, a library
// caller) keep a copy of some of them for convenience; this test fails the moment one drifts from the
// schema, which is what happened before (agent keepalive 30 s vs 10 s, state dir, internet timeout).
import { describe, expect, it } from "vitest";
import { DEFAULT_AGENT_OPTIONS, DEFAULT_BUFFER_OPTIONS } from "../../agent/agent.ts";
import { DEFAULT_COORDINATOR_OPTIONS } from "../../coordinator/fleet/fleet-service.ts";
import { DEFAULT_FLEET_OPTIONS } from "../../coordinator/fleet/state.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../../coordinator/scheduler/index.ts";
import { schedulingSettings } from "./scheduling.ts";
import { configSchema } from "./schema.ts";

const defaults = configSchema.parse({});

describe("defaults outside the schema agree with it", () => {
  it("the agent's", () => {
    expect({
      brokerUrl: DEFAULT_AGENT_OPTIONS.brokerUrl,
      topicRoot: DEFAULT_AGENT_OPTIONS.topicRoot,
      intervalMs: DEFAULT_AGENT_OPTIONS.intervalMs,
      keepaliveMs: DEFAULT_AGENT_OPTIONS.keepaliveSeconds * 1000,
      stateDir: DEFAULT_AGENT_OPTIONS.stateDir,
      internetTimeoutMs: DEFAULT_AGENT_OPTIONS.internet.timeoutMs,
      internetEveryMs: DEFAULT_AGENT_OPTIONS.internet.everyMs,
      bufferMaxSamples: DEFAULT_BUFFER_OPTIONS.maxSamples,
      bufferMaxAgeMs: DEFAULT_BUFFER_OPTIONS.maxAgeMs,
      bufferReplayRate: DEFAULT_BUFFER_OPTIONS.replayPerSecond,
      waitForCoordinator: DEFAULT_BUFFER_OPTIONS.waitForCoordinator,
    }).toEqual({
      brokerUrl: `mqtt://${defaults.broker.embedded}`,
      topicRoot: defaults.topicRoot,
      intervalMs: defaults.agent.interval,
      keepaliveMs: defaults.broker.keepalive,
      stateDir: defaults.agent.stateDir,
      internetTimeoutMs: defaults.agent.internetTimeout,
      internetEveryMs: defaults.agent.internetEvery,
      bufferMaxSamples: defaults.agent.bufferMaxSamples,
      bufferMaxAgeMs: defaults.agent.bufferMaxAge,
      bufferReplayRate: defaults.agent.bufferReplayRate,
      waitForCoordinator: defaults.agent.waitForCoordinator,
    });
  });

  it("the coordinator's and the fleet state's", () => {
    const { coordinator } = defaults;
    for (const options of [DEFAULT_COORDINATOR_OPTIONS, DEFAULT_FLEET_OPTIONS]) {
      expect(options).toMatchObject({
        staleAfterIntervals: coordinator.staleAfterIntervals,
        offlineAfterIntervals: coordinator.offlineAfterIntervals,
        defaultIntervalMs: defaults.agent.interval,
      });
    }
    expect(DEFAULT_COORDINATOR_OPTIONS).toMatchObject({
      reportIntervalMs: coordinator.reportInterval,
      maxPayloadBytes: defaults.broker.maxPayloadBytes,
      maxReportBytes: coordinator.maxReportBytes,
      keepaliveSeconds: defaults.broker.keepalive / 1000,
      topicRoot: defaults.topicRoot,
    });
  });

  it("the scheduling engine's", () => {
    const settings = schedulingSettings(defaults);
    if (settings === false) throw new Error("scheduling is on by default");
    expect(settings.engine).toEqual({
      weights: DEFAULT_SCHEDULER_CONFIG.weights,
      scoringStrategy: DEFAULT_SCHEDULER_CONFIG.scoringStrategy,
      resources: DEFAULT_SCHEDULER_CONFIG.resources,
      interPodAffinity: DEFAULT_SCHEDULER_CONFIG.interPodAffinity,
      nodeAffinity: DEFAULT_SCHEDULER_CONFIG.nodeAffinity,
      live: {
        requireTelemetry: DEFAULT_SCHEDULER_CONFIG.live.requireTelemetry,
        cpuPressurePercent: DEFAULT_SCHEDULER_CONFIG.live.cpuPressurePercent,
        memoryPressurePercent: DEFAULT_SCHEDULER_CONFIG.live.memoryPressurePercent,
        diskPressurePercent: DEFAULT_SCHEDULER_CONFIG.live.diskPressurePercent,
      },
    });
    // Stale is the fleet's rule; the engine's own default only serves callers without a fleet.
    expect(DEFAULT_SCHEDULER_CONFIG.live.staleAfterIntervals).toBe(defaults.coordinator.staleAfterIntervals);
  });
});
