import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../test/support/scheduler.ts";
import { refreshLive } from "./live-refresh.ts";
import { createScheduler } from "./scheduler.ts";
import { buildSnapshot, type LiveTelemetry } from "./snapshot.ts";

const live = (o: Partial<LiveTelemetry> = {}): LiveTelemetry => ({
  online: true,
  ageMs: 0,
  intervalMs: 1000,
  cpuPercent: 10,
  memoryPercent: 10,
  diskMaxPercent: 10,
  ...o,
});

describe("refreshLive", () => {
  it("re-reads only nodes that look silent for more than an interval, and rebases their age", () => {
    const snapshot = buildSnapshot({
      nodes: [
        { node: makeNode("fresh"), live: live({ ageMs: 100 }) },
        { node: makeNode("aged"), live: live({ ageMs: 900 }) },
        { node: makeNode("no-agent") },
      ],
      takenAt: 10_000,
    });
    const asked: string[] = [];
    const reread = refreshLive(
      snapshot,
      (name) => {
        asked.push(name);
        return live({ ageMs: 50, cpuPercent: 99 });
      },
      10_500,
    );
    expect(asked).toEqual(["aged"]); // 900 + 500 > 1000; 100 + 500 is not
    expect(reread).toBe(1);
    expect(snapshot.byName.get("aged")?.live).toMatchObject({ ageMs: -450, cpuPercent: 99 });
    expect(snapshot.byName.get("fresh")?.live?.ageMs).toBe(100);
  });

  it("lets a reused snapshot judge a node on its latest sample", () => {
    const snapshot = buildSnapshot({ nodes: [{ node: makeNode("n"), live: live() }], takenAt: 0 });
    const scheduler = createScheduler();
    const pod = makePod("p");
    expect(scheduler.evaluate(snapshot, pod, 3_001).message).toMatch(/stale agent telemetry/);
    refreshLive(snapshot, () => live({ ageMs: 200 }), 3_001);
    expect(scheduler.evaluate(snapshot, pod, 3_001).status).toBe("scheduled");
    expect(scheduler.evaluate(snapshot, pod, 5_800).status).toBe("scheduled"); // 200 + 2,799 ms old
    expect(scheduler.evaluate(snapshot, pod, 5_802).message).toMatch(/stale agent telemetry/); // no sample since
    refreshLive(snapshot, () => live({ ageMs: 3_500, online: false }), 6_400);
    expect(scheduler.evaluate(snapshot, pod, 6_400).message).toMatch(/offline agent/);
  });
});
