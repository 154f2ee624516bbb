// A real Mosquitto broker process on a loopback port, for tests that prove the contract with a broker nobody
// here wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface MosquittoProcess {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Stderr and stdout so far, for failure messages. */
  output(): string;
}

export async function startMosquitto(extraConfig: string[] = []): Promise<MosquittoProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "k3sf-mosquitto-"));
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
  const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  await waitForPort(
    port,
    5000,
    () => child.exitCode !== null,
    () => output,
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
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
