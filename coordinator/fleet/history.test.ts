import { describe, expect, it } from "vitest";
import { DEFAULT_HISTORY_OPTIONS, FleetHistory, NodeHistory } from "./history.ts";

const MIN = 60_000;
const T0 = 1_699_999_980_000; // an arbitrary epoch-ms start on a minute boundary

/** Records one sample per `intervalMs` from `from` (inclusive) to `to` (exclusive); value = f(time). */
function fill(
  h: NodeHistory,
  from: number,
  to: number,
  intervalMs: number,
  f: (t: number) => [number, number],
) {
  for (let t = from; t < to; t += intervalMs) h.record(t, ...f(t));
}

describe("NodeHistory windows", () => {
  it("5 min from raw points, 60 min from minute buckets", () => {
    const h = new NodeHistory(1000);
    // 10 minutes at 1 s: CPU 10 % during the first 5 minutes, then 30 %..60 % alternating; memory = 50 %.
    fill(h, T0, T0 + 10 * MIN, 1000, (t) => [t < T0 + 5 * MIN ? 10 : (t / 1000) % 2 === 0 ? 30 : 60, 50]);
    const now = T0 + 10 * MIN - 1000; // the last sample's time
    const cpu5 = h.window("cpu", now, 5 * MIN);
    expect(cpu5).toEqual({ min: 30, max: 60, avg: 45, samples: 300 });
    const cpu60 = h.window("cpu", now, 60 * MIN);
    expect(cpu60.samples).toBe(600);
    expect(cpu60.min).toBe(10);
    expect(cpu60.max).toBe(60);
    expect(cpu60.avg).toBeCloseTo((300 * 10 + 150 * 30 + 150 * 60) / 600, 6);
    expect(h.window("memory", now, 60 * MIN)).toEqual({ min: 50, max: 50, avg: 50, samples: 600 });
  });

  it("reports no data for an empty window", () => {
    const h = new NodeHistory(1000);
    expect(h.window("cpu", T0, 5 * MIN)).toEqual({ min: 0, avg: 0, max: 0, samples: 0 });
    h.record(T0, 20, 20);
    expect(h.window("cpu", T0 + 6 * MIN, 5 * MIN).samples).toBe(0);
    expect(h.window("cpu", T0 + 6 * MIN, 60 * MIN).samples).toBe(1);
    expect(h.window("cpu", T0 + 61 * MIN, 60 * MIN).samples).toBe(0);
  });

  it("keeps exactly the last hour: older minutes are overwritten by newer ones", () => {
    const h = new NodeHistory(5000);
    fill(h, T0, T0 + 90 * MIN, 5000, (t) => [t < T0 + 30 * MIN ? 99 : 1, 1]);
    const now = T0 + 90 * MIN - 5000;
    expect(h.window("cpu", now, 60 * MIN)).toEqual({ min: 1, max: 1, avg: 1, samples: 720 });
  });

  it("counts a late sample in the windows its time falls in", () => {
    const h = new NodeHistory(1000);
    fill(h, T0, T0 + 2 * MIN, 1000, () => [10, 10]);
    h.record(T0 + 30_500, 90, 10); // arrives after later samples
    const now = T0 + 2 * MIN;
    expect(h.window("cpu", now, 5 * MIN)).toMatchObject({ max: 90, samples: 121 });
    expect(h.window("cpu", now, 60 * MIN)).toMatchObject({ max: 90, samples: 121 });
    // Only samples inside the window count, whatever their arrival order.
    expect(h.window("cpu", T0 + 30_600, 200)).toMatchObject({ min: 90, max: 90, samples: 1 });
  });

  it("ignores a sample older than both rings reach", () => {
    const h = new NodeHistory(1000);
    h.record(T0 + 120 * MIN, 5, 5);
    h.record(T0, 99, 99);
    expect(h.window("cpu", T0 + 120 * MIN, 60 * MIN)).toMatchObject({ max: 5, samples: 1 });
    h.record(Number.NaN, 99, 99);
    expect(h.window("cpu", T0 + 120 * MIN, 60 * MIN).samples).toBe(1);
  });

  it("takes short windows from buckets when a fast sampler overruns the raw point cap", () => {
    const h = new NodeHistory(100);
    expect(h.rawCapacity).toBe(DEFAULT_HISTORY_OPTIONS.maxRawPoints);
    fill(h, T0, T0 + 5 * MIN, 100, (t) => [t < T0 + MIN ? 50 : 1, 1]);
    expect(h.window("cpu", T0 + 5 * MIN - 100, 5 * MIN)).toMatchObject({ samples: 3000, max: 50 });
    // A window the raw points do cover still comes from them.
    expect(h.window("cpu", T0 + 5 * MIN - 100, 30_000)).toMatchObject({ samples: 300, max: 1 });
  });

  it("resizes the raw ring when the interval changes, keeping the minute buckets", () => {
    const h = new NodeHistory(1000);
    fill(h, T0, T0 + MIN, 1000, () => [10, 10]);
    h.setInterval(5000);
    expect(h.rawCapacity).toBe(91); // 1.5 × 5 min / 5 s + 1
    expect(h.window("cpu", T0 + MIN, 5 * MIN).samples).toBe(0);
    expect(h.window("cpu", T0 + MIN, 60 * MIN).samples).toBe(60);
  });
});

describe("memory bound", () => {
  // Five metrics (cpu, memory, disk, rx, tx): 22 KB at the 600-point raw cap, about 6 KB at 5 s.
  it.each([100, 1000, 5000, 30_000])("one hour at %i ms stays under 24 KB of samples", (intervalMs) => {
    const h = new NodeHistory(intervalMs);
    fill(h, T0, T0 + 60 * MIN, intervalMs, () => [1, 2]);
    const before = h.bytes;
    fill(h, T0 + 60 * MIN, T0 + 120 * MIN, intervalMs, () => [1, 2]);
    expect(h.bytes).toBe(before);
    expect(h.bytes).toBeLessThanOrEqual(24 * 1024);
  });
});

describe("FleetHistory", () => {
  it("creates a node's history on its first sample and follows its interval", () => {
    const fleet = new FleetHistory();
    expect(fleet.get("a")).toBeUndefined();
    fleet.record("a", 1000, T0, 10, 20);
    fleet.record("a", 2000, T0 + 2000, 30, 40);
    const a = fleet.get("a");
    expect(a?.rawCapacity).toBe(226);
    expect(a?.window("memory", T0 + 2000, 60 * MIN)).toEqual({ min: 20, avg: 30, max: 40, samples: 2 });
  });
});

describe("disk and network", () => {
  it("keeps the fullest disk and rx/tx rates beside CPU and memory, raw and per minute", () => {
    const h = new NodeHistory(1000);
    for (let t = T0; t < T0 + 3 * MIN; t += 1000) {
      const s = (t - T0) / 1000; // 0..179
      h.record(t, 10, 20, { diskPercent: 50 + (s % 3), rxBytesPerSec: 1000 * s, txBytesPerSec: 2_000_000 });
    }
    const now = T0 + 3 * MIN - 1000;
    expect(h.window("disk", now, MIN)).toEqual({ min: 50, max: 52, avg: 51, samples: 60 });
    expect(h.window("rx", now, MIN)).toMatchObject({ min: 120_000, max: 179_000, samples: 60 });
    expect(h.window("tx", now, 60 * MIN)).toEqual({ min: 2e6, max: 2e6, avg: 2e6, samples: 180 });
    expect(h.window("rx", now, 60 * MIN)).toMatchObject({ min: 0, max: 179_000 });
    expect(h.window("rx", now, 60 * MIN).avg).toBeCloseTo(89_500, 6);
    // CPU and memory are where they were.
    expect(h.window("cpu", now, MIN)).toEqual({ min: 10, max: 10, avg: 10, samples: 60 });
    expect(h.window("memory", now, 60 * MIN)).toEqual({ min: 20, max: 20, avg: 20, samples: 180 });
  });

  it("counts a sample without disk/network figures (or with non-finite ones) as 0 there", () => {
    const h = new NodeHistory(1000);
    h.record(T0, 10, 20);
    h.record(T0 + 1000, 10, 20, { diskPercent: Number.NaN, rxBytesPerSec: 5, txBytesPerSec: Infinity });
    expect(h.window("disk", T0 + 1000, MIN)).toEqual({ min: 0, max: 0, avg: 0, samples: 2 });
    expect(h.window("rx", T0 + 1000, MIN)).toEqual({ min: 0, max: 5, avg: 2.5, samples: 2 });
    expect(h.window("tx", T0 + 1000, 60 * MIN)).toMatchObject({ max: 0 });
  });
});
