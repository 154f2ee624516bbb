import { Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createExpositionCache } from "./exposition-cache.ts";

describe("createExpositionCache", () => {
  it("collects at most once per maxAgeMs, and requests during a collection share it", async () => {
    const registry = new Registry();
    let collections = 0;
    new Gauge({
      name: "probe",
      help: "counts collections",
      registers: [registry],
      collect() {
        collections++;
        this.set(collections);
      },
    });
    let now = 0;
    const cache = createExpositionCache(registry, 5000, () => now);
    const [a, b] = await Promise.all([cache.text(), cache.text()]);
    expect(collections).toBe(1);
    expect(a).toBe(b);
    now = 4999;
    expect(await cache.text()).toBe(a);
    expect(collections).toBe(1);
    now = 5000;
    expect(await cache.text()).toMatch(/^probe 2$/m);
    expect(collections).toBe(2);
  });

  it("with maxAgeMs 0 collects on every request", async () => {
    const registry = new Registry();
    let collections = 0;
    new Gauge({ name: "probe", help: "h", registers: [registry], collect: () => void collections++ });
    const cache = createExpositionCache(registry, 0);
    await cache.text();
    await cache.text();
    expect(collections).toBe(2);
  });
});
