// The newest live sample of a node, as the plain numbers the coordinator reads, overwritten in place by
// each new sample. Keeping the decoded message instead kept every sample alive for one interval: long
// enough at 10,000 msg/s for V8 to promote each one to the old generation, whose garbage then cost
// 250 ms bursts of marking and a p99 of 150–400 ms through the embedded broker (bench/results.md).
// Pure: a decoded message in, fields out; nothing of the message is kept.
import type { NodeTelemetry } from "../../proto/index.ts";

export class LiveSample {
  /** Agent session and seq of this sample. */
  session = 0n;
  seq = 0;
  /** The agent's timestamp, ms since the epoch (NaN when missing). */
  timeMs = Number.NaN;
  cpuPercent = 0;
  cores = 0;
  load1m = 0;
  memoryTotalBytes = 0;
  memoryUsedBytes = 0;
  memoryPercent = 0;
  /** Fullest filesystem. */
  diskMaxUsePercent = 0;
  /** The default interface's rates when the agent names one, otherwise the sum over all interfaces. */
  rxBytesPerSec = 0;
  txBytesPerSec = 0;
  online = false;
  internet: boolean | undefined = undefined;
  vpn = false;
  uptimeSeconds = 0;
  cpuTemperatureCelsius: number | undefined = undefined;

  update(t: NodeTelemetry): void {
    // Same value, same primitive: keep the old one rather than retain the message's fresh BigInt.
    if (this.session !== t.session) this.session = t.session;
    this.seq = Number(t.seq);
    this.timeMs =
      t.time === undefined ? Number.NaN : Number(t.time.seconds) * 1000 + Math.floor(t.time.nanos / 1e6);
    this.cpuPercent = cpuPercent(t);
    this.cores = t.cpu?.cores ?? 0;
    this.load1m = t.cpu?.load1m ?? 0;
    this.memoryTotalBytes = Number(t.memory?.totalBytes ?? 0n);
    this.memoryUsedBytes = Number(t.memory?.usedBytes ?? 0n);
    this.memoryPercent = memoryPercent(t);
    let diskMax = 0;
    for (const fs of t.filesystems) if (fs.usePercent > diskMax) diskMax = fs.usePercent;
    this.diskMaxUsePercent = diskMax;
    this.#rates(t);
    this.online = t.health?.online ?? false;
    this.internet = t.health?.internet;
    this.vpn = t.health?.vpn ?? false;
    this.uptimeSeconds = Number(t.uptimeSeconds);
    this.cpuTemperatureCelsius = t.cpuTemperatureCelsius;
  }

  #rates(t: NodeTelemetry): void {
    const network = t.network;
    let rx = 0;
    let tx = 0;
    if (network !== undefined) {
      const chosen = network.interfaces.find((i) => i.name === network.defaultInterface);
      if (chosen !== undefined) {
        rx = Number(chosen.rxBytesPerSec);
        tx = Number(chosen.txBytesPerSec);
      } else {
        for (const i of network.interfaces) {
          rx += Number(i.rxBytesPerSec);
          tx += Number(i.txBytesPerSec);
        }
      }
    }
    this.rxBytesPerSec = rx;
    this.txBytesPerSec = tx;
  }
}

/** Memory in use as a percentage of total (the agent's `used_bytes`), 0 when the total is unknown. */
export function memoryPercent(t: NodeTelemetry): number {
  const memory = t.memory;
  if (memory === undefined || memory.totalBytes === 0n) return 0;
  return (Number(memory.usedBytes) / Number(memory.totalBytes)) * 100;
}

export function cpuPercent(t: NodeTelemetry): number {
  return t.cpu?.usagePercent ?? 0;
}

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

/**
 * A figure from a sample as a uint64 for the report: whole, never negative, never past 2^64 − 1 (a lying
 * agent can send rates whose sum no uint64 holds; the report must still encode).
 */
export function u64(value: number): bigint {
  if (!(value > 0)) return 0n;
  if (value >= 2 ** 64) return MAX_UINT64;
  return BigInt(Math.floor(value));
}
