// Pacing for one timer that drives every virtual node: publications spread evenly over the interval (node i
// publishes at i × interval / N into each cycle), and connects metered by a token bucket so thousands of
// nodes do not storm the broker at once. Pure arithmetic; the caller owns the clock.

export interface DueSlots {
  /** First slot to run now (slot s belongs to node s mod N). */
  from: number;
  /** One past the last slot due. */
  to: number;
  /** Slots given up because the loop fell more than a whole cycle behind. */
  skipped: number;
}

/**
 * Which slots are due `elapsedMs` after the origin when slots before `done` have run. Slot s is due at
 * s × interval / nodes. A loop that fell more than one cycle behind runs only the latest cycle: each node
 * publishes at most once per catch-up, never a burst of stale samples.
 */
export function dueSlots(done: number, elapsedMs: number, intervalMs: number, nodes: number): DueSlots {
  const to = Math.floor((Math.max(0, elapsedMs) * nodes) / intervalMs) + 1;
  if (to <= done) return { from: done, to: done, skipped: 0 };
  const from = Math.max(done, to - nodes);
  return { from, to, skipped: from - done };
}

/** Tokens after `elapsedMs` of refilling at `perSecond`, capped at `burst`. */
export function refill(tokens: number, elapsedMs: number, perSecond: number, burst: number): number {
  return Math.min(burst, tokens + (Math.max(0, elapsedMs) * perSecond) / 1000);
}
