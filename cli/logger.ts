// Logs (pino) to standard error or a file, so standard output carries only reports. On a terminal they are
// human-readable and coloured (pino-pretty, loaded only then); JSON lines when not a terminal, in a file,
// or with `--log-format json`, for journald, Kubernetes and log shippers.
import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";
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

export function createLogger(config: Config, name: string): Logger {
  const options = { name, level: config.logging.level };
  const pretty = prettyLogs(config) ? loadPretty() : undefined;
  if (pretty) {
    return pino(
      options,
      pretty({
        colorize: config.logging.file === undefined && Boolean(process.stderr.isTTY),
        destination: config.logging.file ?? 2,
        mkdir: true,
        sync: true,
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname",
        singleLine: true,
      }),
    );
  }
  const destination = config.logging.file
    ? pino.destination({ dest: config.logging.file, mkdir: true, sync: false })
    : pino.destination({ dest: 2, sync: true });
  return pino(options, destination);
}
