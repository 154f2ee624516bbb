import { describe, expect, it } from "vitest";
import type { Timers } from "../common/timers.ts";
import { nextSlot, startTicker } from "./ticker.ts";

/** A hand-driven monotonic clock and timer queue; `lateMs` makes every timer fire that much late. */
function fakeClock(lateMs = 0) {
  let now = 0;
  let id = 0;
  let queue: { at: number; callback: () => void; id: number }[] = [];
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  const timers: Timers = {
    setTimeout(callback, ms) {
      id += 1;
      queue.push({ at: now + ms, callback, id });
      return id;
    },
    clearTimeout(handle) {
      queue = queue.filter((t) => t.id !== handle);
    },
  };
  return {
    timers,
    monotonic: () => now,
    /** Lets time pass (also inside a task, to make it slow). */
    spend(ms: number) {
      now += ms;
    },
    get pending() {
      return queue.length;
    },
    async advanceTo(end: number) {
      for (;;) {
        await flush();
        const due = queue.filter((t) => t.at + lateMs <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        queue = queue.filter((t) => t !== due);
        now = Math.max(now, due.at + lateMs);
        due.callback();
      }
      now = Math.max(now, end);
      await flush();
    },
  };
}

describe("nextSlot", () => {
  it.each([
    { name: "on time", lastIndex: 1, now: 1_004, expected: { index: 2, skipped: 0 } },
    { name: "due exactly now still runs", lastIndex: 1, now: 2_000, expected: { index: 2, skipped: 0 } },
    { name: "overran one slot", lastIndex: 1, now: 2_001, expected: { index: 3, skipped: 1 } },
    { name: "overran three slots", lastIndex: 1, now: 4_500, expected: { index: 5, skipped: 3 } },
    { name: "first slot", lastIndex: 0, now: 0, expected: { index: 1, skipped: 0 } },
  ])("$name", ({ lastIndex, now, expected }) => {
    expect(nextSlot(0, 1_000, lastIndex, now)).toEqual(expected);
  });
});

describe("startTicker", () => {
  it("does not drift when timers fire late", async () => {
    const clock = fakeClock(3);
    const starts: number[] = [];
    const ticker = startTicker({
      intervalMs: 1_000,
      ...clock,
      task: async () => void starts.push(clock.monotonic()),
    });
    await clock.advanceTo(5_500);
    expect(starts).toEqual([1_003, 2_003, 3_003, 4_003, 5_003]);
    await ticker.stop();
  });

  it("skips the slots a slow tick overran instead of piling them up", async () => {
    const clock = fakeClock();
    const starts: number[] = [];
    const skips: number[] = [];
    const ticker = startTicker({
      intervalMs: 1_000,
      ...clock,
      onSkip: (n) => skips.push(n),
      task: async () => {
        starts.push(clock.monotonic());
        if (starts.length === 1) clock.spend(2_500);
      },
    });
    await clock.advanceTo(6_000);
    expect(starts).toEqual([1_000, 4_000, 5_000, 6_000]);
    expect(skips).toEqual([2]);
    expect(ticker.skipped).toBe(2);
    await ticker.stop();
  });

  it("never runs two ticks at once while one is waiting", async () => {
    const clock = fakeClock();
    let running = 0;
    let maxRunning = 0;
    let release: () => void = () => {};
    const ticker = startTicker({
      intervalMs: 1_000,
      ...clock,
      task: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        running -= 1;
      },
    });
    await clock.advanceTo(10_000);
    expect(maxRunning).toBe(1);
    expect(clock.pending).toBe(0); // nothing queued behind the stuck tick
    release();
    await clock.advanceTo(11_000);
    expect(maxRunning).toBe(1);
    await clock.advanceTo(11_000);
    release();
    await ticker.stop();
  });

  it("keeps going after a task rejects, and stop() waits for the tick in flight", async () => {
    const clock = fakeClock();
    let calls = 0;
    let finished = false;
    let release: () => void = () => {};
    const ticker = startTicker({
      intervalMs: 1_000,
      ...clock,
      task: async () => {
        calls += 1;
        if (calls === 1) throw new Error("boom");
        if (calls === 3) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          finished = true;
        }
      },
    });
    await clock.advanceTo(3_000);
    expect(calls).toBe(3);
    const stopped = ticker.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await clock.advanceTo(3_000);
    expect(done).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    await clock.advanceTo(10_000);
    expect(calls).toBe(3);
  });
});
