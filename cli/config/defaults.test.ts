// The schema holds every product default and the parts take resolved settings (issue 16): each setting of a
// config reaches the part that uses it through cli/config/defaults.ts, the default config is the schema's,
// and the one default the scheduling engine still keeps for library callers agrees with the schema.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "../../coordinator/scheduler/index.ts";
import * as cut from "./defaults.ts";
import { loadConfig } from "./load.ts";
import { schedulingSettings } from "./scheduling.ts";
import { configSchema } from "./schema.ts";

// Every value differs from its default, so a setting taken from the wrong key (or a default) shows.
const custom = configSchema.parse({
  topicRoot: "plant-7/v1",
  broker: { url: "mqtt://broker.local:1884", keepalive: "25s", maxPayloadBytes: 70_000 },
  agent: {
    interval: "7s",
    stateDir: "/var/lib/k3s-fleet",
    labels: { rack: "r1" },
    internetTarget: "10.0.0.1:443",
    internetTimeout: "3s",
    internetEvery: "45s",
    bufferMaxSamples: 500,
    bufferMaxAge: "2h",
    bufferReplayRate: 7,
    waitForCoordinator: false,
    procRoot: "/host/proc",
    sysRoot: "/host/sys",
    rootfs: "/host/root",
  },
  coordinator: {
    reportInterval: "40s",
    staleAfterIntervals: 4,
    offlineAfterIntervals: 20,
    expireOfflineAfter: "2h",
    maxReportBytes: 100_000,
    leaderElection: { leaseDuration: "30s", renewDeadline: "20s", retryPeriod: "4s" },
  },
});

describe("each part's settings come from the resolved config", () => {
  it("the coordinator's and the fleet state's (one stale, one offline)", () => {
    expect(cut.coordinatorSettings(custom)).toEqual({
      topicRoot: "plant-7/v1",
      reportIntervalMs: 40_000,
      staleAfterIntervals: 4,
      offlineAfterIntervals: 20,
      defaultIntervalMs: 7_000,
      expireOfflineAfterMs: 7_200_000,
      maxPayloadBytes: 70_000,
      maxReportBytes: 100_000,
      keepaliveSeconds: 25,
    });
    expect(cut.fleetSettings(custom)).toEqual({
      defaultIntervalMs: 7_000,
      staleAfterIntervals: 4,
      offlineAfterIntervals: 20,
    });
  });

  it("the agent's, and its buffer's (off at bufferMaxSamples 0)", () => {
    expect(cut.agentSettings(custom)).toEqual({
      brokerUrl: "mqtt://broker.local:1884",
      topicRoot: "plant-7/v1",
      intervalMs: 7_000,
      keepaliveSeconds: 25,
      labels: { rack: "r1" },
      stateDir: "/var/lib/k3s-fleet",
      internet: { target: "10.0.0.1:443", timeoutMs: 3_000, everyMs: 45_000 },
      roots: { procRoot: "/host/proc", sysRoot: "/host/sys", rootfs: "/host/root" },
    });
    expect(cut.agentBufferSettings(custom)).toEqual({
      maxSamples: 500,
      maxAgeMs: 7_200_000,
      replayPerSecond: 7,
      waitForCoordinator: false,
    });
    expect(cut.agentBufferSettings(configSchema.parse({ agent: { bufferMaxSamples: 0 } }))).toBeUndefined();
  });

  it("the embedded broker's: address, limits, connection and queue bounds, password checks, new nodes", () => {
    const broker = {
      embedded: "127.0.0.2:1884",
      refusedPublish: "disconnect",
      maxTopicLength: 300,
      maxPayloadByTopic: { telemetry: 9_000 },
      maxPublishRate: 20,
      publishBurst: 40,
      maxConnectBytes: 32_768,
      maxPendingPerAddress: 8,
      maxConnections: 500,
      maxConnectRatePerAddress: 5,
      connectTimeout: "4s",
      maxQueuedMessages: 50,
      maxQueuedBytes: 1_000_000,
      maxRetainedBytes: 2_000_000,
      authConcurrency: 3,
      authQueue: 7,
      maxNewNodesPerClient: 2,
      maxNewNodesPerAddress: 30,
    } as const;
    const config = configSchema.parse({ broker });
    for (const key of Object.keys(broker) as (keyof typeof broker)[])
      expect(config.broker[key], key).not.toEqual(cut.CONFIG_DEFAULTS.broker[key]);
    expect(cut.brokerSettings(config)).toEqual({
      host: "127.0.0.2",
      port: 1884,
      maxPacketBytes: cut.EMBEDDED_MAX_PAYLOAD_BYTES,
      refusedPublish: "disconnect",
      limits: {
        maxTopicLength: 300,
        maxPayloadByTopic: { ...cut.CONFIG_DEFAULTS.broker.maxPayloadByTopic, telemetry: 9_000 },
        maxPublishRate: 20,
        publishBurst: 40,
      },
      connections: {
        maxConnectBytes: 32_768,
        maxPendingPerAddress: 8,
        maxConnections: 500,
        connectRatePerAddress: 5,
        connectTimeoutMs: 4_000,
      },
      queues: { maxMessages: 50, maxBytes: 1_000_000, maxRetainedBytes: 2_000_000 },
      checkGate: { concurrency: 3, maxQueued: 7 },
      newNodes: { perClientPerMinute: 2, perAddressPerMinute: 30 },
    });
  });

  it("leader election's timings", () => {
    expect(cut.electorTimings(custom)).toEqual({
      leaseDurationMs: 30_000,
      renewDeadlineMs: 20_000,
      retryPeriodMs: 4_000,
    });
  });

  it("the defaults are the schema's: what the CLI runs with given nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-defaults-"));
    try {
      const empty = join(dir, "config.yaml");
      writeFileSync(empty, "{}\n");
      expect(cut.CONFIG_DEFAULTS).toEqual(loadConfig({ file: empty, env: {} }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The values the parts got wrong before (agent keepalive 30 s vs 10 s, state dir, internet timeout).
    expect(cut.agentSettings(cut.CONFIG_DEFAULTS)).toMatchObject({
      keepaliveSeconds: 10,
      stateDir: "./data",
      internet: { timeoutMs: 2_000 },
    });
  });
});

describe("the scheduling engine's library default agrees with the schema", () => {
  it("weights, scoring strategy, live thresholds and stale", () => {
    const settings = schedulingSettings(cut.CONFIG_DEFAULTS);
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
    expect(DEFAULT_SCHEDULER_CONFIG.live.staleAfterIntervals).toBe(
      cut.CONFIG_DEFAULTS.coordinator.staleAfterIntervals,
    );
  });
});
