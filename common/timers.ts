// The one-shot timer the edges schedule with (informer restarts, backoff resets, metrics polls, pending-pod
// retries, store pruning). Injected so tests can drive time instead of waiting for it.
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
