// The timers the edges schedule with: one-shot (informer restarts, backoff resets, metrics polls, pending-pod
// retries, store pruning, the agent's ticker, the simulator's pacing) and repeating (the coordinator's report
// tick). Injected so tests can drive time instead of waiting for it.
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A repeating timer, for a loop that must not drift with the time each run takes to schedule the next. */
export interface IntervalTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const REAL_INTERVAL_TIMERS: IntervalTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};
