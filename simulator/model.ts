// How a virtual machine's load moves: CPU follows a daily sine at the node's own phase, with noise and
// occasional spikes; memory drifts around its level (mean-reverting, bounded); disks fill slowly and are
// cleaned up when nearly full; network and disk rates follow the day; temperature follows the CPU.
// Pure: (profile, state, now) → next state, and state → the contract's NodeTelemetry. Randomness lives in
// the state (one PRNG number), so the same seed and clock give the same telemetry.
import { type MessageInit, timestamp } from "../proto/index.ts";
import type { MachineProfile } from "./machine.ts";
import { createRng, hashSeed, type Rng } from "./rng.ts";

export interface ModelOptions {
  /** Length of one simulated day; shorten it (e.g. 10 min) to watch a whole cycle in a demo. */
  diurnalPeriodMs: number;
  /** Mean number of CPU spikes per node per hour. */
  spikesPerHour: number;
  /** Mean number of internet outages per node per day (the node stays connected to its broker). */
  internetOutagesPerDay: number;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  diurnalPeriodMs: 86_400_000,
  spikesPerHour: 3,
  internetOutagesPerDay: 2,
};

export interface MachineState {
  /** Wall-clock time of the last step. */
  atMs: number;
  /** PRNG state for the next step. */
  rng: number;
  bootMs: number;
  cpuPercent: number;
  corePermille: number[];
  load1m: number;
  load5m: number;
  load15m: number;
  /** A spike adds `spikePercent` of CPU until `spikeUntilMs`. */
  spikeUntilMs: number;
  spikePercent: number;
  /** Share of memory in use (what cannot be reclaimed). */
  memoryUse: number;
  fsUsedBytes: number[];
  rxBytesPerSec: number;
  txBytesPerSec: number;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  celsius: number | undefined;
  internetDownUntilMs: number;
}

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));
const round2 = (x: number) => Math.round(x * 100) / 100;
/** Probability that an event with `perSecond` rate happens within `seconds`. */
const happens = (rng: Rng, perSecond: number, seconds: number) =>
  rng.chance(1 - Math.exp(-perSecond * seconds));

/**
 * How busy the node's day is at `nowMs`: 1 at its peak (profile.phase of the period), 0 half a period later.
 * A 24 h period lines up with UTC time of day.
 */
export function diurnalActivity(profile: MachineProfile, nowMs: number, periodMs: number): number {
  const dayFraction = (((nowMs % periodMs) + periodMs) % periodMs) / periodMs;
  return 0.5 + 0.5 * Math.cos(2 * Math.PI * (dayFraction - profile.phase));
}

/** The state of a machine that has been up for `profile.initialUptimeMs` when the simulation starts. */
export function initialState(profile: MachineProfile, nowMs: number, seed: number): MachineState {
  const rng = createRng(hashSeed(seed, profile.index, "state"));
  const cpu = profile.cpuBase;
  return {
    atMs: nowMs,
    rng: rng.state,
    bootMs: nowMs - profile.initialUptimeMs,
    cpuPercent: cpu,
    corePermille: Array.from({ length: profile.cores }, () => Math.round(cpu * 10)),
    load1m: (cpu / 100) * profile.cores,
    load5m: (cpu / 100) * profile.cores,
    load15m: (cpu / 100) * profile.cores,
    spikeUntilMs: 0,
    spikePercent: 0,
    memoryUse: profile.memoryBase,
    fsUsedBytes: profile.filesystems.map((fs) => Math.round(fs.sizeBytes * fs.initialUse)),
    rxBytesPerSec: 0,
    txBytesPerSec: 0,
    diskReadBytesPerSec: 0,
    diskWriteBytesPerSec: 0,
    celsius: profile.idleCelsius,
    internetDownUntilMs: 0,
  };
}

/** Advances the machine to `nowMs` (a step of zero length still draws fresh noise). */
export function step(
  profile: MachineProfile,
  state: MachineState,
  nowMs: number,
  options: ModelOptions = DEFAULT_MODEL_OPTIONS,
): MachineState {
  const rng = createRng(state.rng);
  const dt = Math.max(0, nowMs - state.atMs) / 1000;
  const activity = diurnalActivity(profile, nowMs, options.diurnalPeriodMs);

  let { spikeUntilMs, spikePercent } = state;
  if (nowMs >= spikeUntilMs && happens(rng, options.spikesPerHour / 3600, dt)) {
    spikeUntilMs = nowMs + rng.range(5_000, 90_000);
    spikePercent = rng.range(25, 70);
  }
  const spiking = nowMs < spikeUntilMs;

  // CPU: a common level for the whole machine, then each core around it (work is never evenly spread).
  const level =
    profile.cpuBase +
    profile.cpuAmplitude * activity +
    (spiking ? spikePercent : 0) +
    rng.normal() * profile.cpuNoise;
  const corePermille = new Array<number>(profile.cores);
  let sum = 0;
  for (let c = 0; c < profile.cores; c++) {
    const core = clamp(level + rng.normal() * 8, 0, 100);
    corePermille[c] = Math.round(core * 10);
    sum += core;
  }
  const cpuPercent = sum / profile.cores;
  const runnable = (cpuPercent / 100) * profile.cores * (spiking ? 1.3 : 1);
  const ema = (previous: number, minutes: number) => {
    const keep = Math.exp(-dt / (60 * minutes));
    return previous * keep + runnable * (1 - keep);
  };

  // Memory: Ornstein–Uhlenbeck around a level that rises a little with the day, bounded.
  const memoryTarget = profile.memoryBase + 0.1 * activity + (spiking ? 0.05 : 0);
  const memoryUse = clamp(
    state.memoryUse + (memoryTarget - state.memoryUse) * (dt / 1800) + 0.0015 * Math.sqrt(dt) * rng.normal(),
    0.05,
    0.97,
  );

  // Disks fill with use; when one is nearly full, something (log rotation, image GC) frees space.
  const fsUsedBytes = profile.filesystems.map((fs, i) => {
    const used = (state.fsUsedBytes[i] ?? 0) + fs.fillBytesPerSec * dt * (0.5 + activity);
    return used > fs.sizeBytes * 0.95 ? Math.round(fs.sizeBytes * rng.range(0.45, 0.7)) : used;
  });

  const burst = spiking ? 2 : 1;
  const traffic = (0.15 + 0.85 * activity) * burst;
  const rxBytesPerSec = profile.rxBytesPerSec * traffic * Math.exp(0.35 * rng.normal());
  const txBytesPerSec = profile.txBytesPerSec * traffic * Math.exp(0.35 * rng.normal());
  const io = (0.1 + 0.9 * activity) * burst;
  const diskReadBytesPerSec = profile.diskReadBytesPerSec * io * Math.exp(0.5 * rng.normal());
  const diskWriteBytesPerSec = profile.diskWriteBytesPerSec * io * Math.exp(0.5 * rng.normal());

  let celsius = state.celsius;
  if (celsius !== undefined && profile.idleCelsius !== undefined) {
    const target = profile.idleCelsius + 0.35 * cpuPercent;
    celsius = clamp(celsius + (target - celsius) * (1 - Math.exp(-dt / 30)) + 0.3 * rng.normal(), 15, 105);
  }

  let { internetDownUntilMs } = state;
  if (nowMs >= internetDownUntilMs && happens(rng, options.internetOutagesPerDay / 86_400, dt)) {
    internetDownUntilMs = nowMs + rng.range(20_000, 180_000);
  }

  return {
    atMs: nowMs,
    rng: rng.state,
    bootMs: state.bootMs,
    cpuPercent,
    corePermille,
    load1m: ema(state.load1m, 1),
    load5m: ema(state.load5m, 5),
    load15m: ema(state.load15m, 15),
    spikeUntilMs,
    spikePercent,
    memoryUse,
    fsUsedBytes,
    rxBytesPerSec,
    txBytesPerSec,
    diskReadBytesPerSec,
    diskWriteBytesPerSec,
    celsius,
    internetDownUntilMs,
  };
}

/** The machine after a power cycle at `nowMs`: fresh uptime, quiet memory and load, no spike. */
export function reboot(profile: MachineProfile, state: MachineState, nowMs: number): MachineState {
  return {
    ...state,
    atMs: nowMs,
    bootMs: nowMs,
    load1m: 0,
    load5m: 0,
    load15m: 0,
    spikeUntilMs: 0,
    memoryUse: profile.memoryBase * 0.6,
    celsius: profile.idleCelsius,
  };
}

export interface TelemetryMeta {
  session: bigint;
  seq: bigint;
  /** Publish time; receivers subtract it from their clock for end-to-end latency. */
  nowMs: number;
  /** The node's link to the broker is up (it is, whenever it publishes). */
  online: boolean;
}

const u64 = (x: number) => BigInt(Math.max(0, Math.round(x)));

export function telemetryInit(
  profile: MachineProfile,
  state: MachineState,
  meta: TelemetryMeta,
): MessageInit<"telemetry"> {
  const total = profile.memoryBytes;
  const used = total * state.memoryUse;
  const available = total - used;
  const swapUse = clamp((state.memoryUse - 0.75) / 0.25, 0, 1) * 0.6;
  const internet = meta.online && meta.nowMs >= state.internetDownUntilMs;
  const telemetry: MessageInit<"telemetry"> = {
    session: meta.session,
    seq: meta.seq,
    time: timestamp(meta.nowMs),
    cpu: {
      usagePercent: round2(state.cpuPercent),
      coreUsagePermille: state.corePermille,
      cores: profile.cores,
      load1m: round2(state.load1m),
      load5m: round2(state.load5m),
      load15m: round2(state.load15m),
    },
    memory: {
      totalBytes: u64(total),
      availableBytes: u64(available),
      usedBytes: u64(used),
      freeBytes: u64(available * profile.freeShare),
      swapTotalBytes: u64(profile.swapBytes),
      swapUsedBytes: u64(profile.swapBytes * swapUse),
    },
    filesystems: profile.filesystems.map((fs, i) => {
      const usedBytes = state.fsUsedBytes[i] ?? 0;
      return {
        mount: fs.mount,
        sizeBytes: u64(fs.sizeBytes),
        usedBytes: u64(usedBytes),
        usePercent: round2((usedBytes / fs.sizeBytes) * 100),
      };
    }),
    diskIo: {
      readBytesPerSec: u64(state.diskReadBytesPerSec),
      writeBytesPerSec: u64(state.diskWriteBytesPerSec),
    },
    network: {
      defaultInterface: profile.defaultInterface,
      interfaces: profile.interfaces.map((i) => ({
        name: i.name,
        // A tunnel needs the internet; the node's own interfaces stay up through an outage.
        up: i.name !== profile.vpnInterface || internet,
        rxBytesPerSec: u64(state.rxBytesPerSec * i.trafficShare),
        txBytesPerSec: u64(state.txBytesPerSec * i.trafficShare),
      })),
    },
    health: {
      online: meta.online,
      internet,
      vpn: profile.vpnInterface !== undefined && internet,
      vpnInterface: internet ? (profile.vpnInterface ?? "") : "",
    },
    uptimeSeconds: BigInt(Math.floor(Math.max(0, meta.nowMs - state.bootMs) / 1000)),
  };
  if (state.celsius !== undefined) telemetry.cpuTemperatureCelsius = round2(state.celsius);
  return telemetry;
}
