import { describe, expect, it } from "vitest";
import { DEFAULT_FLAP_OPTIONS, flappingNodes, flapRng, nextDrop, nextReturn } from "./flap.ts";

describe("flappingNodes", () => {
  it.each([
    { nodes: 50, fraction: 0.02, count: 1 },
    { nodes: 10_000, fraction: 0.02, count: 200 },
    { nodes: 10, fraction: 0, count: 0 },
    { nodes: 10, fraction: 1, count: 10 },
  ])("$fraction of $nodes nodes → $count distinct nodes", ({ nodes, fraction, count }) => {
    const chosen = flappingNodes(3, nodes, fraction);
    expect(chosen).toHaveLength(count);
    expect(new Set(chosen).size).toBe(count);
    expect(chosen.every((i) => i >= 0 && i < nodes)).toBe(true);
    expect([...chosen].sort((a, b) => a - b)).toEqual(chosen);
  });

  it("is chosen by the seed", () => {
    expect(flappingNodes(3, 1000, 0.05)).toEqual(flappingNodes(3, 1000, 0.05));
    expect(flappingNodes(3, 1000, 0.05)).not.toEqual(flappingNodes(4, 1000, 0.05));
  });
});

describe("flap timing", () => {
  it("drops within the up range and returns within the down range", () => {
    const rng = flapRng(1, 5);
    const options = { ...DEFAULT_FLAP_OPTIONS, upMs: [100, 200] as const, downMs: [1_000, 2_000] as const };
    let reboots = 0;
    for (let i = 0; i < 200; i++) {
      const drop = nextDrop(rng, 10_000, options);
      expect(drop).toBeGreaterThanOrEqual(10_100);
      expect(drop).toBeLessThan(10_200);
      const back = nextReturn(rng, drop, options);
      expect(back.atMs - drop).toBeGreaterThanOrEqual(1_000);
      expect(back.atMs - drop).toBeLessThan(2_000);
      if (back.reboot) reboots += 1;
    }
    expect(reboots).toBeGreaterThan(60); // rebootChance 0.5
    expect(reboots).toBeLessThan(140);
  });
});
