// Seeded randomness for the simulator: a 32-bit PRNG (mulberry32) whose whole state is one number, so a
// machine's state can carry it and the model stays a pure function of (profile, state, now).

/** Mixes numbers and strings into one 32-bit seed (FNV-1a over the parts, then a murmur3 finaliser). */
export function hashSeed(...parts: readonly (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === "number" ? `n${part}` : `s${part}`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff; // part separator, so ("ab", "c") and ("a", "bc") differ
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Whole number in [min, max], both included. */
  int(min: number, max: number): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** The generator's state after the draws so far; `createRng(state)` continues from it. */
  readonly state: number;
}

/** A mulberry32 stream; one small object per stream (the model makes one per step, so no closures here). */
class Mulberry32 implements Rng {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  get state(): number {
    return this.#a;
  }

  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    const a = this.#a;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, max: number): number {
    return min + Math.floor((max - min + 1) * this.next());
  }

  normal(): number {
    // Box–Muller without caching the second value, so the state stays a single number.
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[Math.floor(items.length * this.next())] as T;
  }
}

export function createRng(seed: number): Rng {
  return new Mulberry32(seed);
}
