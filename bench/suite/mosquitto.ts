// A Mosquitto process for the suite: loopback port, anonymous, no persistence, the open-file limit raised
// in its own shell so 10,000 clients fit, and the extra config lines the caller gives (listed in results).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { sleep } from "./harness.ts";

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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "k3sf-bench-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      ...config,
      "",
    ].join("\n"),
  );
  // `exec` keeps the pid: the shell becomes Mosquitto after raising its open-file limit.
  const child: ChildProcess = spawn(
    "sh",
    ["-c", `ulimit -n 65536 2>/dev/null; exec mosquitto -c '${conf}'`],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d) => (output = (output + d).slice(-20_000)));
  child.stderr?.on("data", (d) => (output = (output + d).slice(-20_000)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited early:\n${output}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`mosquitto did not listen on ${port}:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    config,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  } satisfies BenchMosquitto;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
