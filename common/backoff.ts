// Jittered exponential backoff ("full jitter" within [base/2, base]) so a fleet that lost its broker
// does not come back in lock-step storms.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of each delay that is randomised: 0 = none, 1 = anywhere in [0, delay]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

export interface Backoff {
  /** Delay before the next attempt; grows with every call until `reset()`. */
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(
  options: Partial<BackoffOptions> = {},
  random: () => number = Math.random,
): Backoff {
  const { initialMs, maxMs, factor, jitter } = { ...DEFAULT_BACKOFF, ...options };
  let attempts = 0;
  return {
    next() {
      const base = Math.min(maxMs, initialMs * factor ** attempts);
      attempts += 1;
      return Math.round(base * (1 - jitter * random()));
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
