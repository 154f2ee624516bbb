// The schema's defaults as each part takes them, for tests and benches that start a part without the CLI:
// the same cut of the config the CLI passes (cli/config/defaults.ts), so no test keeps a literal copy.
import {
  agentBufferSettings,
  agentSettings,
  brokerSettings,
  CONFIG_DEFAULTS,
  coordinatorSettings,
  electorTimings,
  fleetSettings,
} from "../../cli/config/defaults.ts";
import type { IngestOptions } from "../../coordinator/fleet/ingest.ts";

/** startSecuredBroker's settings at the schema's defaults (127.0.0.1:1883: tests override the port). */
export const BROKER_DEFAULTS = brokerSettings(CONFIG_DEFAULTS);
/** startEmbeddedBroker's settings at the schema's defaults. */
export const EMBEDDED_BROKER_DEFAULTS = {
  host: BROKER_DEFAULTS.host,
  port: BROKER_DEFAULTS.port,
  maxPayloadBytes: BROKER_DEFAULTS.maxPacketBytes,
  connections: BROKER_DEFAULTS.connections,
  queues: BROKER_DEFAULTS.queues,
};
export const AGENT_DEFAULTS = agentSettings(CONFIG_DEFAULTS);
export const BUFFER_DEFAULTS = bufferOn(agentBufferSettings(CONFIG_DEFAULTS));
export const COORDINATOR_DEFAULTS = coordinatorSettings(CONFIG_DEFAULTS);
export const FLEET_DEFAULTS = fleetSettings(CONFIG_DEFAULTS);
export const ELECTOR_TIMINGS = electorTimings(CONFIG_DEFAULTS);

/** createIngest's options as the coordinator passes them with the default config, on the clock `now`. */
export function ingestDefaults(logger: IngestOptions["logger"], now: () => number): IngestOptions {
  return {
    root: CONFIG_DEFAULTS.topicRoot,
    maxPayloadBytes: CONFIG_DEFAULTS.broker.maxPayloadBytes,
    fleet: FLEET_DEFAULTS,
    logger,
    now,
  };
}

function bufferOn<T>(settings: T | undefined): T {
  if (settings === undefined)
    throw new Error("the agent's buffer is on by default (agent.bufferMaxSamples > 0)");
  return settings;
}
