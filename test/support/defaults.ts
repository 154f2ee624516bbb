// The schema's defaults as each part takes them, for tests and benches that start a part without the CLI:
// the same cut of the config the CLI passes (cli/config/defaults.ts), so no test keeps a literal copy.
import {
  agentBufferSettings,
  agentSettings,
  CONFIG_DEFAULTS,
  coordinatorSettings,
  electorTimings,
  fleetSettings,
} from "../../cli/config/defaults.ts";

export const AGENT_DEFAULTS = agentSettings(CONFIG_DEFAULTS);
/** The buffer is on by default (agent.bufferMaxSamples > 0). */
export const BUFFER_DEFAULTS = agentBufferSettings(CONFIG_DEFAULTS) ?? {
  maxSamples: 0,
  maxAgeMs: 0,
  replayPerSecond: 1,
  waitForCoordinator: true,
};
export const COORDINATOR_DEFAULTS = coordinatorSettings(CONFIG_DEFAULTS);
export const FLEET_DEFAULTS = fleetSettings(CONFIG_DEFAULTS);
export const ELECTOR_TIMINGS = electorTimings(CONFIG_DEFAULTS);
