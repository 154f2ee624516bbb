// The pieces every Mosquitto launcher here shares (the tests' one-shot and restartable brokers, the bench's):
// a config file for a loopback listener, a process that is only handed back once its port accepts
// connections, and a stop that waits for the exit.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { until } from "./until.ts";

export interface MosquittoConfigFile {
  port: number;
  url: string;
  /** The temporary directory holding the file: the caller removes it when done. */
  dir: string;
  path: string;
}

/** Anonymous, no persistence (a restart forgets everything, as a crash without a persistence file does). */
export async function writeMosquittoConfig(
  dirPrefix: string,
  extraConfig: readonly string[],
): Promise<MosquittoConfigFile> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const path = join(dir, "mosquitto.conf");
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    ...extraConfig,
  ];
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { port, url: `mqtt://127.0.0.1:${port}`, dir, path };
}

/** What a broker printed, for failure messages; one log can span a broker's restarts. */
export class OutputLog {
  #text = "";
  readonly #limit: number;
  /** Keeps only the last `limit` characters (a busy broker under load logs without end). */
  constructor(limit = Number.POSITIVE_INFINITY) {
    this.#limit = limit;
  }
  append(chunk: string | Buffer): void {
    this.#text = (this.#text + chunk).slice(-this.#limit);
  }
  text(): string {
    return this.#text;
  }
}

export interface LaunchOptions {
  log: OutputLog;
  timeoutMs: number;
  /** Raises the open-file limit first, in a shell that then `exec`s Mosquitto so the pid stays its own. */
  openFiles?: number;
}

/** Spawns Mosquitto and resolves once its port accepts connections; a broker that never does is killed. */
export async function launchMosquitto(
  config: MosquittoConfigFile,
  options: LaunchOptions,
): Promise<ChildProcess> {
  const child =
    options.openFiles === undefined
      ? spawn("mosquitto", ["-c", config.path], { stdio: ["ignore", "pipe", "pipe"] })
      : spawn(
          "sh",
          ["-c", `ulimit -n ${options.openFiles} 2>/dev/null; exec mosquitto -c '${config.path}'`],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
  child.stdout?.on("data", (d) => options.log.append(d));
  child.stderr?.on("data", (d) => options.log.append(d));
  try {
    await waitForPort(config.port, options.timeoutMs, child, options.log);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return child;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` and waits for the exit; with `killAfterMs`, one still running by then gets SIGKILL instead. */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals,
  killAfterMs?: number,
): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  if (killAfterMs === undefined) return exited;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, killAfterMs)))]);
  clearTimeout(timer);
  if (isRunning(child)) child.kill("SIGKILL");
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess, log: OutputLog) {
  await until(
    async () => {
      if (!isRunning(child)) throw new Error(`mosquitto exited early:\n${log.text()}`);
      return canConnect(port);
    },
    timeoutMs,
    () => `mosquitto to listen on ${port}:\n${log.text()}`,
    50,
  );
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
