// Logs (pino) to standard error or a file, so standard output carries only reports. On a terminal they are
// human-readable and coloured (pino-pretty, loaded only then); JSON lines when not a terminal, in a file,
// or with `--log-format json`, for journald, Kubernetes and log shippers.
import { openSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import pino, { type DestinationStream, type Logger } from "pino";
import { makeDirSync } from "../common/make-dir.ts";
import type { Config } from "./config/schema.ts";

/** Whether this process's logs are human-readable: `logging.format`, else a terminal on standard error. */
export function prettyLogs(config: Config, isTTY = Boolean(process.stderr.isTTY)): boolean {
  const format = config.logging.format ?? "auto";
  if (format !== "auto") return format === "pretty";
  return config.logging.file === undefined && isTTY;
}

/** pino-pretty, or undefined where it is not installed (the bundled agent ships without it): then JSON lines. */
function loadPretty(): ((o: object) => DestinationStream) | undefined {
  try {
    return createRequire(import.meta.url)("pino-pretty") as (o: object) => DestinationStream;
  } catch {
    return undefined;
  }
}

/** A log file that cannot be opened: one line naming the file and the cause (cli/failure.ts prints it). */
export class LogFileError extends Error {
  readonly code = "K3SF_ERR_LOG_FILE";
  constructor(file: string, cause: unknown) {
    const e = cause as NodeJS.ErrnoException;
    super(`cannot open the log file ${file}: ${e?.message ?? String(cause)}`, { cause });
    this.name = "LogFileError";
  }
}

/**
 * Opens (appending; parent directories created) the log file now, so a path that cannot be written fails
 * the start with one clear line instead of an unhandled 'error' event from pino's writer a moment later.
 */
export function openLogFile(file: string): number {
  try {
    return openSync(file, "a");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new LogFileError(file, error);
  }
  try {
    makeDirSync(dirname(file));
    return openSync(file, "a");
  } catch (error) {
    throw new LogFileError(file, error);
  }
}

export function createLogger(config: Config, name: string): Logger {
  const options = { name, level: config.logging.level };
  const fd = config.logging.file === undefined ? undefined : openLogFile(config.logging.file);
  const pretty = prettyLogs(config) ? loadPretty() : undefined;
  if (pretty) {
    return pino(
      options,
      pretty({
        colorize: config.logging.file === undefined && Boolean(process.stderr.isTTY),
        destination: fd ?? 2,
        sync: true,
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname",
        singleLine: true,
      }),
    );
  }
  const destination =
    fd !== undefined
      ? pino.destination({ dest: fd, sync: false })
      : pino.destination({ dest: 2, sync: true });
  return pino(options, destination);
}
