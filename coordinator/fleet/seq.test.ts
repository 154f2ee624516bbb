import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SEQ_WINDOW, type SeqOutcome, SeqWindow } from "./seq.ts";

/** The obvious model: a set of every seq seen, and the window it can remember. */
function model(size: number) {
  const seen = new Set<number>();
  let first = 0;
  let highest = 0;
  let gaps = 0;
  return {
    accept(seq: number): SeqOutcome {
      if (first === 0) first = seq;
      if (seq > highest) {
        if (highest !== 0) gaps += seq - highest - 1;
        highest = seq;
        seen.add(seq);
        return "new";
      }
      if (seen.has(seq) || seq < first || highest - seq >= size) return "duplicate";
      seen.add(seq);
      gaps--;
      return "fill";
    },
    get gaps() {
      return gaps;
    },
  };
}

describe("SeqWindow", () => {
  // A 64-seq window, so random runs slide it, jump over it and revisit forgotten slots often.
  const SIZE = 64;
  /** Deliveries: single seqs (redelivered, late, or jumping ahead) and in-order runs. */
  const deliveries = fc.array(
    fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 4 * SIZE }).map((seq) => [seq]), weight: 6 },
      {
        arbitrary: fc
          .tuple(fc.integer({ min: 1, max: 4 * SIZE }), fc.integer({ min: 1, max: 2 * SIZE }))
          .map(([from, length]) => Array.from({ length }, (_, i) => from + i)),
        weight: 1,
      },
    ),
    { maxLength: 60 },
  );

  it("agrees with a set-based model on random deliveries: duplicates, jumps, late fills, sliding", () => {
    fc.assert(
      fc.property(deliveries, (batches) => {
        const window = new SeqWindow(SIZE);
        window.reset(1n);
        const reference = model(SIZE);
        let gaps = 0;
        const seqs = batches.flat();
        seqs.forEach((seq, i) => {
          const outcome = window.accept(seq);
          expect(outcome, `delivery ${i} (seq ${seq})`).toBe(reference.accept(seq));
          if (outcome === "new") gaps += window.lastGapsOpened;
          if (outcome === "fill") gaps--;
          expect(window.missingCount).toBeLessThan(SIZE);
        });
        expect(gaps).toBe(reference.gaps);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects a window size that is not a multiple of 32", () => {
    expect(() => new SeqWindow(48)).toThrow(RangeError);
  });

  it("frees its bitmap bookkeeping once every gap is filled or forgotten", () => {
    const w = new SeqWindow();
    w.reset(7n);
    w.accept(1);
    w.accept(4);
    expect(w.missingCount).toBe(2);
    w.accept(2);
    w.accept(3);
    expect(w.missingCount).toBe(0);
    w.accept(6);
    expect(w.missingCount).toBe(1);
    for (let s = 7; s <= 6 + SEQ_WINDOW; s++) w.accept(s);
    expect(w.missingCount).toBe(0);
    expect(w.accept(5)).toBe("duplicate");
  });

  it("reset starts a new session from scratch", () => {
    const w = new SeqWindow();
    w.reset(1n);
    w.accept(10);
    w.reset(2n);
    expect(w.session).toBe(2n);
    expect(w.accept(3)).toBe("new");
    expect(w.lastGapsOpened).toBe(0);
  });
});
