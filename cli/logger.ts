// Structured JSON logs (pino) to standard error or a file, so standard output carries only reports.
import pino, { type Logger } from "pino";
import type { Config } from "./config/schema.ts";

export function createLogger(config: Config, name: string): Logger {
  const destination = config.logging.file
    ? pino.destination({ dest: config.logging.file, mkdir: true, sync: false })
    : pino.destination({ dest: 2, sync: true });
  return pino({ name, level: config.logging.level }, destination);
}
