// Test helpers for the cluster edge (not used at run time): a pino logger whose lines can be read back,
// and timers that only fire when a test says so.
import pino, { type Logger } from "pino";
import type { Timers } from "../../common/timers.ts";

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(level = "debug"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export const WARN = 40;

export interface ManualTimers {
  readonly timers: Timers;
  /** Every delay asked for, in order (including cleared ones). */
  readonly requested: number[];
  /** Timers not yet fired or cleared, soonest first. */
  pending(): number[];
  /** Fires the soonest pending timer; returns its delay, or undefined if none. */
  fireNext(): number | undefined;
}

export function manualTimers(): ManualTimers {
  let seq = 0;
  const live = new Map<number, { ms: number; callback: () => void }>();
  const requested: number[] = [];
  const soonest = () => [...live.entries()].sort((a, b) => a[1].ms - b[1].ms || a[0] - b[0])[0];
  return {
    timers: {
      setTimeout(callback, ms) {
        const id = ++seq;
        live.set(id, { ms, callback });
        requested.push(ms);
        return id;
      },
      clearTimeout(handle) {
        live.delete(handle as number);
      },
    },
    requested,
    pending: () => [...live.values()].map((t) => t.ms).sort((a, b) => a - b),
    fireNext() {
      const next = soonest();
      if (next === undefined) return undefined;
      live.delete(next[0]);
      next[1].callback();
      return next[1].ms;
    },
  };
}
