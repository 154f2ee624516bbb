import { describe, expect, it } from "vitest";
import type { Timers } from "../../common/timers.ts";
import { createPendingQueue } from "./pending.ts";

/** A manual clock: timers fire only when `advance` passes their time. */
function manualTime() {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const t: Timers = {
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id as number);
    },
  };
  return {
    timers: t,
    now: () => now,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined || next[1].at > until) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = until;
    },
  };
}

function setup() {
  const time = manualTime();
  const due: Array<[string, number]> = [];
  const queue = createPendingQueue({
    initialMs: 1000,
    maxMs: 10_000,
    timers: time.timers,
    now: time.now,
    onDue: (key) => due.push([key, time.now()]),
  });
  return { time, due, queue };
}

describe("pending queue", () => {
  it("a new pod is due at once; adding it again changes nothing", () => {
    const { time, due, queue } = setup();
    queue.add("ns/a");
    queue.add("ns/a");
    time.advance(0);
    expect(due).toEqual([["ns/a", 0]]);
    expect(queue.size).toBe(1);
  });

  it("failed attempts back off 1 s, 2 s, 4 s, 8 s, 10 s, 10 s", () => {
    const { time, due, queue } = setup();
    queue.add("ns/a");
    time.advance(0);
    const delays = [];
    for (let i = 0; i < 6; i++) {
      delays.push(queue.failed("ns/a"));
      time.advance(20_000);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(due.map(([, at]) => at)).toEqual([0, 1000, 22_000, 44_000, 68_000, 90_000, 110_000]);
    expect(queue.attempts("ns/a")).toBe(6);
  });

  it("a cluster change makes waiting pods due 1 s after their last failure, keeping the backoff", () => {
    const { time, due, queue } = setup();
    queue.add("ns/a");
    time.advance(0);
    for (let i = 0; i < 4; i++) {
      queue.failed("ns/a");
      time.advance(10_000);
    }
    due.length = 0;
    expect(queue.failed("ns/a")).toBe(10_000); // due at t=50s
    time.advance(300);
    queue.clusterChanged();
    time.advance(700);
    expect(due).toEqual([["ns/a", 41_000]]);
    expect(queue.failed("ns/a")).toBe(10_000);
  });

  it("a cluster change does not bring an attempt forward past the backoff it is already in", () => {
    const { time, due, queue } = setup();
    queue.add("ns/a");
    time.advance(0);
    queue.failed("ns/a"); // due at 1000
    queue.clusterChanged();
    time.advance(999);
    expect(due).toHaveLength(1);
    time.advance(1);
    expect(due).toEqual([
      ["ns/a", 0],
      ["ns/a", 1000],
    ]);
  });

  it("done forgets a pod and its timer; stop forgets everything", () => {
    const { time, due, queue } = setup();
    queue.add("ns/a");
    queue.add("ns/b");
    time.advance(0);
    queue.failed("ns/a");
    queue.failed("ns/b");
    queue.done("ns/a");
    expect(queue.has("ns/a")).toBe(false);
    queue.stop();
    time.advance(60_000);
    expect(due).toEqual([
      ["ns/a", 0],
      ["ns/b", 0],
    ]);
    expect(queue.size).toBe(0);
  });
});
