// The product settings each part takes, cut from a resolved config, and the schema's defaults resolved once.
// Parts (agent, coordinator, embedded broker, fleet state, leader election) have no defaults of their own for product settings:
// the CLI passes these from the loaded config, and a library caller (a test, a bench) passes them from
// CONFIG_DEFAULTS, so the schema stays the one source of every default.
import type { BufferOptions } from "../../agent/agent.ts";
import type { FleetOptions } from "../../coordinator/fleet/state.ts";
import type { ElectorTimings } from "../../coordinator/leader/elector.ts";
import { hostRoots, internetOptions } from "../commands/capture.ts";
import { brokerUrl, splitHostPort } from "../options.ts";
import { type Config, configSchema } from "./schema.ts";

/** Every setting at its default: what `k3s-fleet` runs with given no file, no env and no flags. */
export const CONFIG_DEFAULTS: Readonly<Config> = Object.freeze(configSchema.parse({}));

/** broker.keepalive in whole seconds, at least 1 (MQTT's CONNECT field). */
export function keepaliveSeconds(config: Config): number {
  return Math.max(1, Math.round(config.broker.keepalive / 1000));
}

/** The fleet state's rules: the report's and the scheduler's one definition of stale and offline. */
export function fleetSettings(config: Config): FleetOptions {
  return {
    defaultIntervalMs: config.agent.interval,
    staleAfterIntervals: config.coordinator.staleAfterIntervals,
    offlineAfterIntervals: config.coordinator.offlineAfterIntervals,
  };
}

/** startCoordinator's product settings (the broker URL, credentials and hooks are the caller's). */
export function coordinatorSettings(config: Config) {
  return {
    topicRoot: config.topicRoot,
    reportIntervalMs: config.coordinator.reportInterval,
    ...fleetSettings(config),
    expireOfflineAfterMs: config.coordinator.expireOfflineAfter,
    maxPayloadBytes: config.broker.maxPayloadBytes,
    maxReportBytes: config.coordinator.maxReportBytes,
    keepaliveSeconds: keepaliveSeconds(config),
  };
}

/**
 * Largest PUBLISH payload the embedded broker takes from anyone (the fleet report is the largest message).
 * Not a setting: broker.maxPayloadBytes bounds what the coordinator ingests from nodes, the per-topic limits
 * (broker.maxPayloadByTopic) bound each kind, and this only keeps the socket guard's packet bound finite.
 */
export const EMBEDDED_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** startSecuredBroker's product settings (the users file, TLS, local clients and hooks are the caller's). */
export function brokerSettings(config: Config) {
  const b = config.broker;
  return {
    ...splitHostPort(b.embedded),
    maxPacketBytes: EMBEDDED_MAX_PAYLOAD_BYTES,
    refusedPublish: b.refusedPublish,
    limits: {
      maxTopicLength: b.maxTopicLength,
      maxPayloadByTopic: b.maxPayloadByTopic,
      maxPublishRate: b.maxPublishRate,
      publishBurst: b.publishBurst,
    },
    connections: {
      maxConnectBytes: b.maxConnectBytes,
      maxPendingPerAddress: b.maxPendingPerAddress,
      maxConnections: b.maxConnections,
      connectTimeoutMs: b.connectTimeout,
      connectRatePerAddress: b.maxConnectRatePerAddress,
    },
    queues: {
      maxMessages: b.maxQueuedMessages,
      maxBytes: b.maxQueuedBytes,
      maxRetainedBytes: b.maxRetainedBytes,
    },
    checkGate: { concurrency: b.authConcurrency, maxQueued: b.authQueue },
    newNodes: { perClientPerMinute: b.maxNewNodesPerClient, perAddressPerMinute: b.maxNewNodesPerAddress },
  };
}

/** startAgent's product settings but the node id and the buffer (see agentBufferSettings). */
export function agentSettings(config: Config) {
  return {
    brokerUrl: brokerUrl(config),
    topicRoot: config.topicRoot,
    intervalMs: config.agent.interval,
    keepaliveSeconds: keepaliveSeconds(config),
    labels: config.agent.labels,
    stateDir: config.agent.stateDir,
    internet: internetOptions(config.agent),
    roots: hostRoots(config.agent),
  };
}

/** Store-and-forward settings; `bufferMaxSamples: 0` turns the buffer off (telemetry is dropped while offline). */
export function agentBufferSettings(config: Config): BufferOptions | undefined {
  const { agent } = config;
  if (agent.bufferMaxSamples === 0) return undefined;
  return {
    maxSamples: agent.bufferMaxSamples,
    maxAgeMs: agent.bufferMaxAge,
    replayPerSecond: agent.bufferReplayRate,
    waitForCoordinator: agent.waitForCoordinator,
  };
}

/** Leader election's Lease timings (kube-scheduler's by default). */
export function electorTimings(config: Config): ElectorTimings {
  const e = config.coordinator.leaderElection;
  return { leaseDurationMs: e.leaseDuration, renewDeadlineMs: e.renewDeadline, retryPeriodMs: e.retryPeriod };
}
