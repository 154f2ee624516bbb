import { describe, expect, it } from "vitest";
import { createMessage, encode } from "../proto/index.ts";
import { machineProfile } from "./machine.ts";
import {
  DEFAULT_MODEL_OPTIONS,
  diurnalActivity,
  initialState,
  type MachineState,
  reboot,
  step,
  telemetryInit,
} from "./model.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 5, 1); // midnight UTC

/** Runs one node from T0 every `everyMs` for `count` samples; returns the states. */
function run(seed: number, index: number, everyMs: number, count: number, options = DEFAULT_MODEL_OPTIONS) {
  const profile = machineProfile(seed, index, "sim");
  let state = initialState(profile, T0, seed);
  const states: MachineState[] = [];
  for (let i = 1; i <= count; i++) {
    state = step(profile, state, T0 + i * everyMs, options);
    states.push(state);
  }
  return { profile, states };
}

const bytesOf = (seed: number, index: number) => {
  const { profile, states } = run(seed, index, 1000, 50);
  return states.map((s, i) =>
    Buffer.from(
      encode(
        "telemetry",
        createMessage(
          "telemetry",
          telemetryInit(profile, s, { session: 1n, seq: BigInt(i + 1), nowMs: s.atMs, online: true }),
        ),
      ),
    ).toString("hex"),
  );
};

describe("diurnalActivity", () => {
  const profile = { ...machineProfile(1, 0, "sim"), phase: 0.5 }; // peaks at noon
  it.each([
    { hour: 12, expected: 1 },
    { hour: 0, expected: 0 },
    { hour: 6, expected: 0.5 },
    { hour: 18, expected: 0.5 },
  ])("is $expected at $hour:00 for a node peaking at noon", ({ hour, expected }) => {
    expect(diurnalActivity(profile, T0 + hour * 3_600_000, DAY)).toBeCloseTo(expected, 6);
  });

  it("compresses into a shorter period", () => {
    expect(diurnalActivity(profile, T0 + 5 * 60_000, 10 * 60_000)).toBeCloseTo(1, 6);
  });
});

describe("model", () => {
  it("is deterministic: same seed and clock, same telemetry bytes; another seed, other bytes", () => {
    expect(bytesOf(5, 2)).toEqual(bytesOf(5, 2));
    expect(bytesOf(6, 2)).not.toEqual(bytesOf(5, 2));
  });

  it("keeps every value in range over two simulated days at one sample a minute", () => {
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok && problems.length < 10) problems.push(what);
    };
    for (let index = 0; index < 40; index++) {
      const { profile, states } = run(3, index, 60_000, 2 * 1440);
      let previousUptime = -1n;
      for (const s of states) {
        const t = telemetryInit(profile, s, { session: 1n, seq: 1n, nowMs: s.atMs, online: true });
        const at = `node ${index} at ${new Date(s.atMs).toISOString()}`;
        const cpu = t.cpu ?? {};
        const usage = cpu.usagePercent ?? -1;
        check(usage >= 0 && usage <= 100, `${at}: cpu ${usage}`);
        const cores = cpu.coreUsagePermille ?? [];
        check(cores.length === profile.cores, `${at}: ${cores.length} cores`);
        check(
          cores.every((c) => c >= 0 && c <= 1000),
          `${at}: core permille ${cores}`,
        );
        check((cpu.load1m ?? -1) >= 0, `${at}: load ${cpu.load1m}`);
        const m = t.memory ?? {};
        const used = m.usedBytes ?? 0n;
        const available = m.availableBytes ?? 0n;
        check(used + available <= BigInt(profile.memoryBytes) + 1n, `${at}: used + available > total`);
        check((m.freeBytes ?? 0n) <= available, `${at}: free > available`);
        check((m.swapUsedBytes ?? 0n) <= (m.swapTotalBytes ?? 0n), `${at}: swap used > total`);
        for (const fs of t.filesystems ?? []) {
          check((fs.usedBytes ?? 0n) <= (fs.sizeBytes ?? 0n), `${at}: ${fs.mount} over its size`);
          check((fs.usePercent ?? 100) <= 96, `${at}: ${fs.mount} ${fs.usePercent} %`);
        }
        const celsius = t.cpuTemperatureCelsius;
        check(
          profile.idleCelsius === undefined ? celsius === undefined : celsius !== undefined && celsius > 15,
          `${at}: temperature ${celsius}`,
        );
        const uptime = t.uptimeSeconds ?? 0n;
        check(uptime > previousUptime, `${at}: uptime ${uptime} after ${previousUptime}`);
        previousUptime = uptime;
      }
    }
    expect(problems).toEqual([]);
  });

  it("follows the day: CPU is higher in a node's busiest hours than in its quietest, across the fleet", () => {
    let busier = 0;
    const nodes = 30;
    for (let index = 0; index < nodes; index++) {
      const { profile, states } = run(4, index, 60_000, 1440);
      const peakHour = profile.phase * 24;
      const hourOf = (s: MachineState) => ((s.atMs - T0) / 3_600_000) % 24;
      const near = (h: number, target: number) => Math.abs(((h - target + 36) % 24) - 12) < 2;
      const mean = (xs: MachineState[]) => xs.reduce((sum, s) => sum + s.cpuPercent, 0) / xs.length;
      const peak = mean(states.filter((s) => near(hourOf(s), peakHour)));
      const trough = mean(states.filter((s) => near(hourOf(s), (peakHour + 12) % 24)));
      if (peak > trough + profile.cpuAmplitude / 2) busier += 1;
    }
    expect(busier).toBeGreaterThanOrEqual(nodes - 2); // a spike in the quiet hours may blur one or two
  });

  it("spikes now and then: at 60 spikes an hour, CPU jumps well above the node's usual level", () => {
    const options = { ...DEFAULT_MODEL_OPTIONS, spikesPerHour: 60 };
    const { profile, states } = run(2, 1, 1000, 3600, options);
    const spiking = states.filter((s) => s.spikeUntilMs > s.atMs);
    expect(spiking.length).toBeGreaterThan(100);
    expect(spiking.length).toBeLessThan(3500);
    const usual = profile.cpuBase + profile.cpuAmplitude;
    expect(Math.max(...spiking.map((s) => s.cpuPercent))).toBeGreaterThan(Math.min(100, usual + 15));
  });

  it("lets memory drift within bounds, and disks fill", () => {
    const { profile, states } = run(9, 7, 10_000, 8640); // one day, every 10 s
    const memory = states.map((s) => s.memoryUse);
    expect(Math.max(...memory) - Math.min(...memory)).toBeGreaterThan(0.02);
    expect(Math.min(...memory)).toBeGreaterThanOrEqual(0.05);
    expect(Math.max(...memory)).toBeLessThanOrEqual(0.97);
    const root = profile.filesystems[0];
    const first = states[0]?.fsUsedBytes[0] ?? 0;
    const last = states.at(-1)?.fsUsedBytes[0] ?? 0;
    if (root && root.fillBytesPerSec > 1_000 && last < root.sizeBytes * 0.9)
      expect(last).toBeGreaterThan(first);
  });

  it("starts uptime again after a reboot", () => {
    const { profile, states } = run(1, 0, 1000, 5);
    const before = states.at(-1) as MachineState;
    const after = step(profile, reboot(profile, before, before.atMs + 60_000), before.atMs + 65_000);
    const t = telemetryInit(profile, after, { session: 2n, seq: 1n, nowMs: after.atMs, online: true });
    expect(t.uptimeSeconds).toBe(5n);
  });
});
