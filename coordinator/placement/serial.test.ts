import { describe, expect, it } from "vitest";
import { createSerialQueue } from "./serial.ts";

describe("serial queue", () => {
  it("runs tasks one at a time, in order, even when they await", async () => {
    const queue = createSerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([
      queue.run(task("a", 20)),
      queue.run(task("b", 1)),
      queue.run(task("c", 5)),
    ]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(queue.size).toBe(0);
  });

  it("a failing task rejects its own promise and does not block the next", async () => {
    const queue = createSerialQueue();
    const failed = queue.run(() => {
      throw new Error("boom");
    });
    const next = queue.run(() => 42);
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe(42);
    await queue.idle();
    expect(queue.size).toBe(0);
  });
});

describe("createSerialQueue offer", () => {
  it("refuses a task once maxQueued are queued or running, and takes one again when they finish", async () => {
    const queue = createSerialQueue({ maxQueued: 2 });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = queue.offer(() => gate);
    const second = queue.offer(() => "b");
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(queue.offer(() => "c")).toBeUndefined();
    expect(queue.size).toBe(2);
    release();
    await second;
    await queue.idle();
    expect(await queue.offer(() => "d")).toBe("d");
  });
});
