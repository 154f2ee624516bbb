// Per-session sequence tracking: which telemetry `seq` numbers of one agent session were seen, so the
// fleet can drop duplicates, count gaps and accept a late message that fills one. Pure, allocation-free
// on the in-order path: a bitmap of missing seqs exists only while a session has unfilled gaps.

/** How many seqs below the highest one are remembered; older missing seqs can no longer be filled. */
export const SEQ_WINDOW = 4096;

/** `new`: above every seq seen; `fill`: a remembered gap filled late; `duplicate`: seen or too old. */
export type SeqOutcome = "new" | "fill" | "duplicate";

export class SeqWindow {
  /** Seqs remembered below the highest one: a multiple of 32. */
  readonly size: number;
  /** The session these seqs belong to; 0n while unused. */
  session = 0n;
  /** Highest seq seen; 0 before the first one. */
  highest = 0;
  /** Seqs that were skipped and are still remembered as missing (fewer than `size`). */
  missingCount = 0;
  /** How many seqs the last `new` seq skipped over (0 for the first seq of a session). */
  lastGapsOpened = 0;
  /** Bit set = seq missing, indexed by seq mod size; only allocated while there is a gap. */
  #missing: Uint32Array | undefined = undefined;

  constructor(size = SEQ_WINDOW) {
    if (size <= 0 || size % 32 !== 0)
      throw new RangeError(`seq window size ${size} is not a positive multiple of 32`);
    this.size = size;
  }

  reset(session: bigint): void {
    this.session = session;
    this.highest = 0;
    this.missingCount = 0;
    this.lastGapsOpened = 0;
    this.#missing = undefined;
  }

  /**
   * Records `seq` (≥ 1) and says how it relates to what was seen; `lastGapsOpened` then says how many seqs
   * a `new` one skipped. The first seq of a session opens no gap: a coordinator that starts mid-session
   * cannot know what came before it.
   */
  accept(seq: number): SeqOutcome {
    const highest = this.highest;
    if (seq > highest) {
      this.lastGapsOpened = highest === 0 ? 0 : seq - highest - 1;
      if (this.lastGapsOpened > 0) this.#open(highest, seq);
      else if (this.#missing !== undefined) this.#forget(seq);
      this.highest = seq;
      return "new";
    }
    this.lastGapsOpened = 0;
    const bits = this.#missing;
    if (bits === undefined || highest - seq >= this.size) return "duplicate";
    if (!this.#clear(bits, seq)) return "duplicate";
    return "fill";
  }

  /** Marks (from, to) exclusive as missing and clears `to`, forgetting what falls out of the window. */
  #open(from: number, to: number): void {
    const size = this.size;
    let bits = this.#missing;
    if (bits === undefined) {
      bits = new Uint32Array(size / 32);
      this.#missing = bits;
    }
    if (to - from >= size) {
      // Everything remembered falls out of the window; only the last size - 1 skipped seqs fit.
      bits.fill(0);
      this.missingCount = 0;
      from = to - size;
    }
    for (let s = from + 1; s <= to; s++) {
      const slot = s % size;
      const word = slot >>> 5;
      const mask = 1 << (slot & 31);
      // The slot last held seq s - size: if that one was still missing it is forgotten now.
      const held = bits[word] as number;
      if ((held & mask) !== 0) this.missingCount--;
      if (s === to) bits[word] = held & ~mask;
      else {
        bits[word] = held | mask;
        this.missingCount++;
      }
    }
  }

  /** In-order advance to `seq` while gaps are remembered: its slot may still hold a gap of seq - size. */
  #forget(seq: number): void {
    this.#clear(this.#missing as Uint32Array, seq);
  }

  /** Clears the missing bit of `seq`'s slot; true when it was set. Frees the bitmap when none is left. */
  #clear(bits: Uint32Array, seq: number): boolean {
    const slot = seq % this.size;
    const word = slot >>> 5;
    const mask = 1 << (slot & 31);
    const held = bits[word] as number;
    if ((held & mask) === 0) return false;
    bits[word] = held & ~mask;
    this.missingCount--;
    if (this.missingCount === 0) this.#missing = undefined;
    return true;
  }
}
