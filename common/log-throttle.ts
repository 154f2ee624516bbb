// One log throttle for every flood-prone log line (refused publishes, bad schedule requests, failed
// bindings): one line per key per interval, a cap on lines per interval over all keys, and a count of
// what was left out, reported with the key's next line. Pure: the caller passes `now`.
export interface LogThrottleOptions {
  /** One line per key per interval... */
  intervalMs: number;
  /** ...and at most this many lines per interval over all keys. */
  maxPerInterval: number;
  /** Keys remembered; past this the memory is dropped (a flood of new keys costs lines, not memory). */
  maxKeys: number;
}

export type LogDecision = { log: true; suppressed: number } | { log: false };

export interface LogThrottle {
  /** Whether to log an event for `key` now; `suppressed` counts the events not logged since the last line. */
  admit(key: string, now: number): LogDecision;
}

export function createLogThrottle(options: LogThrottleOptions): LogThrottle {
  const { intervalMs, maxPerInterval, maxKeys } = options;
  const keys = new Map<string, { at: number; suppressed: number }>();
  let windowFrom = Number.NEGATIVE_INFINITY;
  let used = 0;
  return {
    admit(key, now) {
      const entry = keys.get(key);
      if (entry !== undefined && now - entry.at < intervalMs) {
        entry.suppressed++;
        return { log: false };
      }
      if (now - windowFrom >= intervalMs) {
        windowFrom = now;
        used = 0;
      }
      if (entry === undefined && keys.size >= maxKeys) keys.clear();
      if (used >= maxPerInterval) {
        // Counted now, and reported with the key's next line.
        keys.set(key, {
          at: entry?.at ?? Number.NEGATIVE_INFINITY,
          suppressed: (entry?.suppressed ?? 0) + 1,
        });
        return { log: false };
      }
      used++;
      keys.set(key, { at: now, suppressed: 0 });
      return { log: true, suppressed: entry?.suppressed ?? 0 };
    },
  };
}
