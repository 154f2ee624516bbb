// A real Mosquitto broker process on a loopback port, for tests that prove the contract with a broker nobody
// here wrote.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { launchMosquitto, OutputLog, stopProcess, writeMosquittoConfig } from "./mosquitto-process.ts";

export interface MosquittoProcess {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Stderr and stdout so far, for failure messages. */
  output(): string;
}

export async function startMosquitto(extraConfig: string[] = []): Promise<MosquittoProcess> {
  const config = await writeMosquittoConfig("k3sf-mosquitto-", extraConfig);
  const log = new OutputLog();
  const child = await launchMosquitto(config, { log, timeoutMs: 5000 });
  return {
    url: config.url,
    port: config.port,
    process: child,
    output: () => log.text(),
    async stop() {
      await stopProcess(child, "SIGTERM");
      rmSync(config.dir, { recursive: true, force: true });
    },
  };
}
