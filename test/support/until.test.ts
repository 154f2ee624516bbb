import { describe, expect, it } from "vitest";
import { until } from "./until.ts";

describe("until", () => {
  it("resolves with the probe's first truthy value, sync or async", async () => {
    let calls = 0;
    expect(await until(() => ++calls >= 3 && `after ${calls}`, 1000, "three calls", 1)).toBe("after 3");
    expect(await until(async () => ({ ok: true }), 1000)).toEqual({ ok: true });
  });

  it("rejects after the timeout, naming what it waited for (a function is asked then)", async () => {
    await expect(until(() => false, 30, "nothing", 5)).rejects.toThrow(
      "timed out after 30 ms waiting for nothing",
    );
    let output = "";
    const waiting = until(
      () => false,
      30,
      () => `the broker\n${output}`,
      5,
    );
    output = "broker log";
    await expect(waiting).rejects.toThrow("waiting for the broker\nbroker log");
  });
});
