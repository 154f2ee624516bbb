// A Mosquitto process for the suite: loopback port, anonymous, no persistence, the open-file limit raised
// in its own shell so 10,000 clients fit, and the extra config lines the caller gives (listed in results).
import { rmSync } from "node:fs";
import {
  launchMosquitto,
  OutputLog,
  stopProcess,
  writeMosquittoConfig,
} from "../../test/support/mosquitto-process.ts";

export interface BenchMosquitto {
  url: string;
  pid: number;
  /** The config lines beyond listener/anonymous/persistence/logging. */
  config: readonly string[];
  stop(): Promise<void>;
  output(): string;
}

/**
 * The broker settings the suite uses. The contract's QoS 1 to one subscriber (the coordinator) at 10,000+
 * messages/s needs a deeper per-client queue than Mosquitto's defaults (20 in flight, 1,000 queued: beyond
 * that a QoS 1 message to that client is dropped), so both are raised; see results.md.
 */
export const BENCH_MOSQUITTO_CONFIG: readonly string[] = [
  "max_connections -1",
  "max_inflight_messages 1000",
  "max_queued_messages 100000",
];

/** Mosquitto's own defaults for the per-client queues (20 in flight, 1,000 queued), as deploy/mosquitto runs. */
export const DEFAULT_QUEUE_MOSQUITTO_CONFIG: readonly string[] = ["max_connections -1"];

let suiteConfig: readonly string[] = BENCH_MOSQUITTO_CONFIG;
/** The config every Mosquitto of this run gets (`--mosquitto-defaults` switches to the default queues). */
export function useMosquittoConfig(config: readonly string[]): void {
  suiteConfig = config;
}

export async function startBenchMosquitto(config: readonly string[] = suiteConfig) {
  const file = await writeMosquittoConfig("k3sf-bench-mosquitto-", [
    "log_type error",
    "log_type warning",
    ...config,
  ]);
  const log = new OutputLog(20_000);
  const child = await launchMosquitto(file, { log, timeoutMs: 10_000, openFiles: 65536 });
  return {
    url: file.url,
    pid: child.pid ?? 0,
    config,
    output: () => log.text(),
    stop: async () => {
      await stopProcess(child, "SIGTERM", 5000);
      rmSync(file.dir, { recursive: true, force: true });
    },
  } satisfies BenchMosquitto;
}
