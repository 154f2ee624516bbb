// A small seeded PRNG (mulberry32) for the fuzz generators: the same seed gives the same bytes on every
// machine and Node version, and it is fast enough for hundreds of thousands of messages.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 2^32). */
  u32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(table: readonly (readonly [number, T])[]): T;
  bytes(n: number): Uint8Array;
  /** A new generator seeded from this one: streams that do not disturb each other. */
  fork(): Rng;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const u32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const int = (n: number) => (n <= 1 ? 0 : Math.floor((u32() / 2 ** 32) * n));
  const rng: Rng = {
    seed: seed >>> 0,
    u32,
    int,
    between: (min, max) => min + int(max - min + 1),
    chance: (p) => u32() / 2 ** 32 < p,
    pick: (items) => items[int(items.length)] as (typeof items)[number],
    weighted(table) {
      let total = 0;
      for (const [w] of table) total += w;
      let r = (u32() / 2 ** 32) * total;
      for (const [w, value] of table) {
        r -= w;
        if (r < 0) return value;
      }
      return (table[table.length - 1] as (typeof table)[number])[1];
    },
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        const v = u32();
        out[i] = v & 0xff;
        if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
        if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
        if (i + 3 < n) out[i + 3] = v >>> 24;
      }
      return out;
    },
    fork: () => createRng(u32()),
  };
  return rng;
}

/** The fuzz seed: K3SF_FUZZ_SEED (decimal or 0x-hex) when set, else the fixed default. */
export function fuzzSeed(env: Readonly<Record<string, string | undefined>>, fallback: number): number {
  const raw = env.K3SF_FUZZ_SEED?.trim();
  if (!raw) return fallback;
  const value = raw.startsWith("0x") ? Number.parseInt(raw.slice(2), 16) : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new Error(`K3SF_FUZZ_SEED=${raw} is not a 32-bit unsigned integer`);
  }
  return value;
}
