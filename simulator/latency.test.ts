import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "./latency.ts";

describe("LatencyHistogram", () => {
  it("is empty before the first sample", () => {
    expect(new LatencyHistogram().summary()).toEqual({ samples: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it("gives quantiles within its bucket width (+19 % at most) and the exact maximum", () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    const s = h.summary();
    expect(s.samples).toBe(1000);
    expect(s.max).toBe(1000);
    for (const [q, exact] of [
      [s.p50, 500],
      [s.p90, 900],
      [s.p99, 990],
    ] as const) {
      expect(q).toBeGreaterThanOrEqual(exact);
      expect(q).toBeLessThanOrEqual(Math.min(1000, exact * 1.19));
    }
  });
});
