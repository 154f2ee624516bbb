// Process plumbing for subcommands: load config, make the logger, stop cleanly on SIGINT/SIGTERM.
import type { Logger } from "pino";
import { ConfigError, loadConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { createLogger } from "./logger.ts";
import { flagsToConfig } from "./options.ts";

export interface CommandContext {
  config: Config;
  logger: Logger;
}

/** Parses config from flags/env/file; on invalid config prints every problem and exits 2. */
export function commandContext(opts: Record<string, unknown>, name: string): CommandContext {
  try {
    const config = loadConfig({ file: opts.config as string | undefined, flags: flagsToConfig(opts) });
    return { config, logger: createLogger(config, name) };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`k3s-fleet: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** A one-shot command's failure: printed, with exit code `code`. False (nothing done) when there is none. */
export function exitWith(failure: string | undefined, code = 1): boolean {
  if (failure === undefined) return false;
  process.stderr.write(`k3s-fleet: ${failure}\n`);
  process.exitCode = code;
  return true;
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve(signal);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
}
