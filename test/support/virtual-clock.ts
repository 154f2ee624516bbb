// A virtual clock for code that takes injected timers: time moves only when a test advances it, timers
// fire in due order, and promises started by a callback settle before the next one fires.
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Timers } from "../../common/timers.ts";

export interface VirtualClock {
  now(): number;
  readonly timers: Timers;
  /** Timers whose callbacks are dropped from the moment `kill()` is called: a process that died. */
  killable(): { timers: Timers; kill(): void };
  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): Promise<void>;
}

/** Lets pending promise chains (fake API calls, `finally` handlers) run to completion. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

export function virtualClock(start = 1_700_000_000_000): VirtualClock {
  let time = start;
  let seq = 0;
  const due = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout(callback, ms) {
      const id = ++seq;
      due.set(id, { at: time + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
  };
  return {
    now: () => time,
    timers,
    killable() {
      let dead = false;
      return {
        timers: {
          setTimeout: (callback, ms) => timers.setTimeout(() => dead || callback(), ms),
          clearTimeout: (handle) => timers.clearTimeout(handle),
        },
        kill: () => {
          dead = true;
        },
      };
    },
    async advance(ms) {
      const end = time + ms;
      await settle();
      for (;;) {
        const next = [...due.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!next) break;
        due.delete(next[0]);
        time = next[1].at;
        next[1].callback();
        await settle();
      }
      time = end;
    },
  };
}
