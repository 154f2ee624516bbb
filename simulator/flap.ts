// Flapping: which virtual nodes drop off the network now and then, and when. A flapping node is killed
// abruptly (the broker announces its Will), stays away for a while, and comes back with a new session;
// sometimes it was a power cut and it comes back freshly booted. Pure and seeded.
import { createRng, hashSeed, type Rng } from "./rng.ts";

export interface FlapOptions {
  /** Share of the fleet that flaps, 0–1. */
  fraction: number;
  /** How long a flapping node stays up between drops, [min, max] ms. */
  upMs: readonly [number, number];
  /** How long it stays away, [min, max] ms. */
  downMs: readonly [number, number];
  /** Chance that a return is a reboot (uptime starts again). */
  rebootChance: number;
}

export const DEFAULT_FLAP_OPTIONS: FlapOptions = {
  fraction: 0.02,
  upMs: [60_000, 600_000],
  downMs: [15_000, 120_000],
  rebootChance: 0.5,
};

/** The indexes of the nodes that flap: round(fraction × nodes) of them, chosen by the seed, ascending. */
export function flappingNodes(seed: number, nodes: number, fraction: number): number[] {
  const count = Math.round(Math.min(1, Math.max(0, fraction)) * nodes);
  const rng = createRng(hashSeed(seed, "flappers"));
  const order = Array.from({ length: nodes }, (_, i) => i);
  // Partial Fisher–Yates: the first `count` places get a uniform random choice.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (nodes - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order.slice(0, count).sort((a, b) => a - b);
}

/** The flap schedule's own random stream for node `index`. */
export function flapRng(seed: number, index: number): Rng {
  return createRng(hashSeed(seed, index, "flap"));
}

const within = (rng: Rng, [min, max]: readonly [number, number]) => rng.range(min, max);

/** When a node that is up at `nowMs` drops next. */
export function nextDrop(rng: Rng, nowMs: number, options: FlapOptions): number {
  return nowMs + within(rng, options.upMs);
}

/** When a node that dropped at `nowMs` returns, and whether the return is a reboot. */
export function nextReturn(rng: Rng, nowMs: number, options: FlapOptions): { atMs: number; reboot: boolean } {
  return { atMs: nowMs + within(rng, options.downMs), reboot: rng.chance(options.rebootChance) };
}
