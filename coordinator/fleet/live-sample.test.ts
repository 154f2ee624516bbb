import { describe, expect, it } from "vitest";
import { createMessage } from "../../proto/index.ts";
import { telemetry } from "../../test/support/fleet-messages.ts";
import { LiveSample, u64 } from "./live-sample.ts";

const GiB = 1024 ** 3;

describe("LiveSample", () => {
  it("takes the figures the coordinator reads from a decoded sample", () => {
    const s = new LiveSample();
    s.update(telemetry({ session: 3, seq: 42, timeMs: 1_700_000_000_123, cpu: 37.5, memory: 25, disk: 41 }));
    expect(s).toMatchObject({
      session: 3n,
      seq: 42,
      timeMs: 1_700_000_000_123,
      cpuPercent: 37.5,
      cores: 4,
      load1m: 0.5,
      memoryTotalBytes: 8 * GiB,
      memoryUsedBytes: 2 * GiB,
      memoryPercent: 25,
      diskMaxUsePercent: 41,
    });
  });

  it("is overwritten in place by the next sample, leaving nothing of the last one", () => {
    const s = new LiveSample();
    s.update(
      createMessage("telemetry", {
        session: 1n,
        seq: 1n,
        cpuTemperatureCelsius: 61,
        health: { online: true, internet: true },
      }),
    );
    s.update(createMessage("telemetry", { session: 1n, seq: 2n }));
    expect(s).toMatchObject({
      seq: 2,
      cpuTemperatureCelsius: undefined,
      internet: undefined,
      online: false,
      cpuPercent: 0,
    });
    expect(s.timeMs).toBeNaN();
  });

  it("uses the default interface's rates when named, otherwise the sum over interfaces", () => {
    const interfaces = [
      { name: "eth0", up: true, rxBytesPerSec: 100n, txBytesPerSec: 10n },
      { name: "wlan0", up: true, rxBytesPerSec: 5n, txBytesPerSec: 1n },
    ];
    const s = new LiveSample();
    s.update(createMessage("telemetry", { network: { defaultInterface: "wlan0", interfaces } }));
    expect([s.rxBytesPerSec, s.txBytesPerSec]).toEqual([5, 1]);
    s.update(createMessage("telemetry", { network: { defaultInterface: "", interfaces } }));
    expect([s.rxBytesPerSec, s.txBytesPerSec]).toEqual([105, 11]);
  });
});

describe("u64", () => {
  it.each([
    [0, 0n],
    [-5, 0n],
    [Number.NaN, 0n],
    [1.9, 1n],
    [8 * GiB, 8n * 1024n ** 3n],
    [2 ** 64, 0xffff_ffff_ffff_ffffn],
    [Number.POSITIVE_INFINITY, 0xffff_ffff_ffff_ffffn],
  ])("%d → %d (whole, never negative, never past 2^64 − 1)", (value, expected) => {
    expect(u64(value)).toBe(expected);
  });
});
