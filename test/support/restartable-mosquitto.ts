// A real Mosquitto process that can be killed (a broker crash: no goodbye to anyone) and started again on
// the same loopback port, for the fault tests. No persistence: a restarted broker has forgotten every
// retained message and session, as a crashed broker without a persistence file does.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import {
  isRunning,
  launchMosquitto,
  OutputLog,
  stopProcess,
  writeMosquittoConfig,
} from "./mosquitto-process.ts";

export interface RestartableMosquitto {
  readonly url: string;
  readonly port: number;
  /** True between a successful `start()` and `kill()`. */
  readonly running: boolean;
  /** Kills the process (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port; resolves once the port accepts connections. */
  start(): Promise<void>;
  /** Kills it and removes its config directory. */
  close(): Promise<void>;
  output(): string;
}

export async function startRestartableMosquitto(extraConfig: string[] = []): Promise<RestartableMosquitto> {
  const config = await writeMosquittoConfig("k3sf-faults-mosquitto-", extraConfig);
  const log = new OutputLog(); // one log across restarts: a failure message tells the whole story
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child && isRunning(child)) return;
    child = await launchMosquitto(config, { log, timeoutMs: 10_000 });
  };
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (child) await stopProcess(child, signal);
  };
  await start();
  return {
    url: config.url,
    port: config.port,
    get running() {
      return child !== undefined && isRunning(child);
    },
    kill,
    start,
    async close() {
      await kill();
      rmSync(config.dir, { recursive: true, force: true });
    },
    output: () => log.text(),
  };
}
