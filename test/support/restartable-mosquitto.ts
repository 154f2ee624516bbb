// A real Mosquitto process that can be killed (a broker crash: no goodbye to anyone) and started again on
// the same loopback port, for the fault tests. No persistence: a restarted broker has forgotten every
// retained message and session, as a crashed broker without a persistence file does.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "k3sf-faults-mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "log_dest stderr",
      ...extraConfig,
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  let output = "";

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout?.on("data", (d) => (output += d));
    proc.stderr?.on("data", (d) => (output += d));
    await waitForPort(
      port,
      10_000,
      () => proc.exitCode !== null,
      () => output,
    );
  };
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    kill,
    start,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => output,
  };
}

async function waitForPort(port: number, timeoutMs: number, exited: () => boolean, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`mosquitto exited early:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs}ms:\n${output()}`);
}
