import { describe, expect, it } from "vitest";
import { createRng, hashSeed } from "./rng.ts";

describe("rng", () => {
  it("repeats the same stream from the same seed, and continues from a saved state", () => {
    const a = createRng(7);
    const b = createRng(7);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    const resumed = createRng(a.state);
    expect(resumed.next()).toBe(a.next());
    expect(createRng(8).next()).not.toBe(first[0]);
  });

  it("draws within its ranges, with a standard normal of mean ≈ 0 and deviation ≈ 1", () => {
    const rng = createRng(1);
    const n = 20_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const k = rng.int(3, 5);
      expect([3, 4, 5]).toContain(k);
      const z = rng.normal();
      sum += z;
      squares += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(squares / n) - 1)).toBeLessThan(0.05);
  });

  it("hashes seed parts so that their boundaries matter", () => {
    expect(hashSeed(1, "machine")).toBe(hashSeed(1, "machine"));
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("a", "bc"));
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    expect(hashSeed(1, 0)).toBeGreaterThanOrEqual(0);
  });
});
