import { describe, expect, it } from "vitest";
import { dueSlots, refill } from "./pacing.ts";

describe("dueSlots", () => {
  // 4 nodes every 1000 ms: node i publishes at 250 × i ms into each cycle.
  it.each([
    { done: 0, elapsed: 0, expected: { from: 0, to: 1, skipped: 0 } },
    { done: 1, elapsed: 249, expected: { from: 1, to: 1, skipped: 0 } },
    { done: 1, elapsed: 250, expected: { from: 1, to: 2, skipped: 0 } },
    { done: 2, elapsed: 999, expected: { from: 2, to: 4, skipped: 0 } },
    { done: 4, elapsed: 1000, expected: { from: 4, to: 5, skipped: 0 } },
    // 2.6 s late: only the last cycle (4 slots) runs; the 7 slots before it are given up.
    { done: 1, elapsed: 2750, expected: { from: 8, to: 12, skipped: 7 } },
  ])("done $done at $elapsed ms → $expected", ({ done, elapsed, expected }) => {
    expect(dueSlots(done, elapsed, 1000, 4)).toEqual(expected);
  });

  it("spreads N nodes evenly: 100 per 10 ms tick, each node once per interval", () => {
    const nodes = 10_000;
    const perTick: number[] = [];
    let done = 0;
    const seen = new Uint8Array(nodes);
    for (let t = 0; t <= 1000; t += 10) {
      const due = dueSlots(done, t, 1000, nodes);
      perTick.push(due.to - due.from);
      for (let s = due.from; s < due.to; s++) seen[s % nodes] = (seen[s % nodes] ?? 0) + 1;
      done = due.to;
    }
    expect(Math.max(...perTick.slice(1))).toBeLessThanOrEqual(100);
    expect(Math.min(...perTick.slice(1))).toBeGreaterThanOrEqual(100);
    // At 1000 ms the second cycle has begun: node 0 is due again, every other node once.
    expect(done).toBe(nodes + 1);
    expect(seen[0]).toBe(2);
    expect(seen.subarray(1).every((count) => count === 1)).toBe(true);
  });
});

describe("refill", () => {
  it.each([
    { tokens: 0, elapsed: 10, rate: 500, burst: 50, expected: 5 },
    { tokens: 48, elapsed: 10, rate: 500, burst: 50, expected: 50 },
    { tokens: 3, elapsed: -5, rate: 500, burst: 50, expected: 3 },
  ])(
    "$tokens + $elapsed ms at $rate/s (burst $burst) → $expected",
    ({ tokens, elapsed, rate, burst, expected }) => {
      expect(refill(tokens, elapsed, rate, burst)).toBe(expected);
    },
  );
});
