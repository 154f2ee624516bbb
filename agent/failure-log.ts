// Logs a failure that repeats every interval without flooding: the first one in full, then a reminder at
// most once per `everyMs` with the count, and one line when it recovers.
import type { Logger } from "pino";

export interface FailureLog {
  failed(error: unknown): void;
  recovered(): void;
  /** Consecutive failures so far (0 when healthy). */
  readonly failures: number;
}

export function createFailureLog(options: {
  logger: Logger;
  message: string;
  everyMs?: number;
  monotonic?: () => number;
}): FailureLog {
  const everyMs = options.everyMs ?? 60_000;
  const monotonic = options.monotonic ?? (() => performance.now());
  let failures = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  return {
    failed(error) {
      failures += 1;
      if (failures === 1 || monotonic() - loggedAt >= everyMs) {
        loggedAt = monotonic();
        options.logger.error({ err: error, failures }, options.message);
      }
    },
    recovered() {
      if (failures === 0) return;
      options.logger.info({ failures }, `${options.message}: recovered`);
      failures = 0;
      loggedAt = Number.NEGATIVE_INFINITY;
    },
    get failures() {
      return failures;
    },
  };
}
