import { describe, expect, it } from "vitest";
import { createBackoff } from "./backoff.ts";

describe("backoff", () => {
  it("grows exponentially up to the cap, without jitter", () => {
    const b = createBackoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("spreads delays with jitter so a fleet does not reconnect in lock-step", () => {
    const values = [0, 0.5, 1];
    let i = 0;
    const b = createBackoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 }, () => values[i++ % 3] as number);
    expect([b.next(), b.next(), b.next()]).toEqual([1000, 750, 500]);
  });
});
