// The benchmark harness must not break silently: a small ingest run through the same code `npm run bench`
// uses (coordinator child with the embedded aedes broker, simulator child, the measured window, the
// loss check by seq and the latency histogram). Correctness only: no timing thresholds.
import { describe, expect, it } from "vitest";
import { MsHistogram, quantileSorted } from "../bench/suite/harness.ts";
import { runIngest } from "../bench/suite/ingest.ts";
import { verdict } from "../bench/suite/max-rate.ts";

describe("bench harness", () => {
  it("counts every seq of a 20-node, 3-second run and computes latency percentiles", async () => {
    const r = await runIngest({
      broker: "aedes",
      nodes: 20,
      intervalMs: 1000,
      windowSeconds: 3,
      warmupSeconds: 1,
      drainMs: 5000,
      connectRate: 200,
      keepaliveSeconds: 5,
      lifetimeMs: 60_000,
    });
    // What the simulator wrote in the window, all of it applied to fleet state, from every node.
    expect(r.published).toBeGreaterThanOrEqual(20 * 2);
    expect(r.expected).toBe(r.published);
    expect(r.lost).toBe(0);
    expect(r.loss.found).toBe(r.expected);
    expect(r.loss.nodesSeen).toBe(20);
    expect(r.loss.undecodable).toBe(0);
    expect(r.coordinator.rejected).toBe(0);
    expect(r.coordinator.gaps).toBe(0);
    expect(r.coordinator.received).toBeGreaterThan(0);
    // Latency fields are computed.
    expect(r.latencyMs.samples).toBeGreaterThanOrEqual(r.expected);
    for (const v of [r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.max]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    // /proc sampling of both children.
    expect(Number.isFinite(r.usage.coordinator?.cpuPercent)).toBe(true);
    expect(r.usage.coordinator?.rssEndMiB).toBeGreaterThan(0);
    expect(r.usage.simulator?.rssEndMiB).toBeGreaterThan(0);
    expect(r.memoryAfter.nodes).toBe(20);
    expect(r.teardown).toBe("coordinator survived the simulator's stop");
  }, 90_000);

  it("takes exact percentiles from the millisecond histogram, also after a round trip over IPC", () => {
    const h = new MsHistogram();
    for (let ms = 1; ms <= 100; ms++) h.record(ms);
    h.record(-3);
    const back = MsHistogram.fromData(JSON.parse(JSON.stringify(h.toData())));
    for (const x of [h, back]) {
      expect(x.figures()).toEqual({ samples: 101, p50: 50, p90: 90, p99: 99, max: 100 });
      expect(x.negative).toBe(1);
    }
    expect(new MsHistogram().figures().p50).toBeNaN();
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it("fails a rate step on loss, lag or a simulator that could not offer the rate", () => {
    const ok = {
      lost: 0,
      offeredPerSecond: 1000,
      publishedPerSecond: 1000,
      receivedPerSecond: 1000,
      latencyMs: { samples: 1, p50: 1, p90: 1, p99: 5, max: 5 },
      sim: { lagged: 0, skipped: 0, errors: 0 },
    } as unknown as Parameters<typeof verdict>[0];
    expect(verdict(ok, 1000)).toBe("");
    expect(verdict({ ...ok, lost: 3 }, 1000)).toMatch(/3 lost/);
    expect(verdict({ ...ok, latencyMs: { ...ok.latencyMs, p99: 2000 } }, 1000)).toMatch(/p99/);
    expect(verdict({ ...ok, publishedPerSecond: 500 }, 1000)).toMatch(/did not offer/);
  });
});
