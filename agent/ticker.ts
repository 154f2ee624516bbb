// A fixed-rate loop without drift or overlap. Ticks are aimed at origin + k × interval on a monotonic clock,
// so timer lateness does not accumulate and wall-clock jumps (NTP on a device that booted in 1970) do not
// stall it. A tick that overruns makes the loop skip the slots it missed instead of running them back to back.

import { REAL_TIMERS, type Timers } from "../common/timers.ts";

export interface TickerOptions {
  intervalMs: number;
  task: () => Promise<void>;
  /** Monotonic clock in ms. */
  monotonic?: () => number;
  timers?: Timers;
  /** Called when slots were skipped because the previous tick overran. */
  onSkip?: (skipped: number) => void;
}

export interface Ticker {
  /** Slots skipped so far. */
  readonly skipped: number;
  /** Stops scheduling and waits for a tick in progress to finish. */
  stop(): Promise<void>;
}

/**
 * The next slot index to run after slot `lastIndex` finished at `nowMs`, and how many slots were missed.
 * A slot that is due exactly now still runs.
 */
export function nextSlot(
  originMs: number,
  intervalMs: number,
  lastIndex: number,
  nowMs: number,
): { index: number; skipped: number } {
  const due = Math.ceil((nowMs - originMs) / intervalMs);
  const index = Math.max(lastIndex + 1, due);
  return { index, skipped: index - lastIndex - 1 };
}

export function startTicker(options: TickerOptions): Ticker {
  const monotonic = options.monotonic ?? (() => performance.now());
  const timers = options.timers ?? REAL_TIMERS;
  const origin = monotonic();
  let index = 0;
  let skipped = 0;
  let stopped = false;
  let handle: unknown;
  let running: Promise<void> | undefined;

  const schedule = () => {
    if (stopped) return;
    const slot = nextSlot(origin, options.intervalMs, index, monotonic());
    if (slot.skipped > 0) {
      skipped += slot.skipped;
      options.onSkip?.(slot.skipped);
    }
    index = slot.index;
    handle = timers.setTimeout(tick, Math.max(0, origin + index * options.intervalMs - monotonic()));
  };

  const tick = () => {
    handle = undefined;
    if (stopped) return;
    // The task is expected to catch its own errors; a rejection here must still not end the loop.
    running = options.task().then(
      () => undefined,
      () => undefined,
    );
    void running.then(() => {
      running = undefined;
      schedule();
    });
  };

  schedule();
  return {
    get skipped() {
      return skipped;
    },
    async stop() {
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
      await running;
    },
  };
}
