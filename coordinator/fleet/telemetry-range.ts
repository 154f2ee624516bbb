// Telemetry values the fleet can use: every float finite and every figure inside what a real machine
// reports. One node sending NaN (or 1e300 %) must not reach scoring, where a single non-finite number
// fails every decision (issue 12). Pure; ingest rejects a sample that has a problem, by reason.
import type { NodeBirth, NodeTelemetry } from "../../proto/index.ts";
import { BIRTH_BOUNDS } from "../../proto/limits.ts";

export type RangeReason = "non_finite" | "out_of_range";

export interface RangeProblem {
  reason: RangeReason;
  detail: string;
}

/** Largest byte count or rate accepted (2^53: 8 PiB, and what a Number holds exactly). */
const MAX_BYTES = 2n ** 53n;
const MAX_LIST = 4096;
const MAX_LOAD = 1e6;

function float(name: string, value: number, min: number, max: number): RangeProblem | undefined {
  if (!Number.isFinite(value)) return { reason: "non_finite", detail: `${name} is ${value}` };
  if (value < min || value > max)
    return { reason: "out_of_range", detail: `${name} ${value} not in [${min}, ${max}]` };
  return undefined;
}

function bytes(name: string, value: bigint): RangeProblem | undefined {
  return value > MAX_BYTES ? { reason: "out_of_range", detail: `${name} ${value} above 2^53` } : undefined;
}

function list(name: string, length: number): RangeProblem | undefined {
  return length > MAX_LIST
    ? { reason: "out_of_range", detail: `${length} ${name}, more than ${MAX_LIST}` }
    : undefined;
}

/** The first unusable value in `t`, or undefined. */
export function telemetryRangeProblem(t: NodeTelemetry): RangeProblem | undefined {
  const { cpu, memory, diskIo, network } = t;
  const checks: Array<() => RangeProblem | undefined> = [];
  if (cpu) {
    checks.push(
      () => float("cpu.usage_percent", cpu.usagePercent, 0, 100),
      () => float("cpu.load_1m", cpu.load1m, 0, MAX_LOAD),
      () => float("cpu.load_5m", cpu.load5m, 0, MAX_LOAD),
      () => float("cpu.load_15m", cpu.load15m, 0, MAX_LOAD),
      () => (cpu.cores > 65_536 ? { reason: "out_of_range", detail: `cpu.cores ${cpu.cores}` } : undefined),
      () => list("core usages", cpu.coreUsagePermille.length),
      () => {
        const bad = cpu.coreUsagePermille.find((p) => p > 1000);
        return bad === undefined
          ? undefined
          : { reason: "out_of_range", detail: `core usage ${bad}‰ above 1000` };
      },
    );
  }
  if (memory) {
    for (const [name, value] of Object.entries(memory)) {
      if (typeof value === "bigint") checks.push(() => bytes(`memory.${name}`, value));
    }
  }
  checks.push(() => list("filesystems", t.filesystems.length));
  t.filesystems.forEach((fs, i) => {
    checks.push(
      () => float(`filesystems[${i}].use_percent`, fs.usePercent, 0, 100),
      () => bytes(`filesystems[${i}].size_bytes`, fs.sizeBytes),
      () => bytes(`filesystems[${i}].used_bytes`, fs.usedBytes),
    );
  });
  if (diskIo) {
    checks.push(
      () => bytes("disk_io.read_bytes_per_sec", diskIo.readBytesPerSec),
      () => bytes("disk_io.write_bytes_per_sec", diskIo.writeBytesPerSec),
    );
  }
  if (network) {
    checks.push(() => list("interfaces", network.interfaces.length));
    network.interfaces.forEach((nic, i) => {
      checks.push(
        () => bytes(`interfaces[${i}].rx_bytes_per_sec`, nic.rxBytesPerSec),
        () => bytes(`interfaces[${i}].tx_bytes_per_sec`, nic.txBytesPerSec),
      );
    });
  }
  checks.push(() => bytes("uptime_seconds", t.uptimeSeconds));
  if (t.cpuTemperatureCelsius !== undefined) {
    const celsius = t.cpuTemperatureCelsius;
    checks.push(() => float("cpu_temperature_celsius", celsius, -273.15, 1000));
  }
  for (const check of checks) {
    const problem = check();
    if (problem) return problem;
  }
  return undefined;
}

const { maxString: MAX_BIRTH_STRING, maxList: MAX_BIRTH_LIST, maxLabels: MAX_BIRTH_LABELS } = BIRTH_BOUNDS;

/**
 * The first unusable value in a birth: a string longer than 320 characters, a list of more than 1,024
 * items or more than 256 labels. Births end up in every fleet report; 1,300 births with long strings made
 * one report exceed the 16 MiB packet cap (issue 12).
 */
export function birthRangeProblem(b: NodeBirth): RangeProblem | undefined {
  const labels = Object.keys(b.labels).length;
  if (labels > MAX_BIRTH_LABELS)
    return { reason: "out_of_range", detail: `${labels} labels, more than ${MAX_BIRTH_LABELS}` };
  return walk(b, "birth");
}

function walk(value: unknown, path: string): RangeProblem | undefined {
  if (typeof value === "string") {
    return value.length > MAX_BIRTH_STRING
      ? {
          reason: "out_of_range",
          detail: `${path} is ${value.length} characters, more than ${MAX_BIRTH_STRING}`,
        }
      : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_BIRTH_LIST)
      return {
        reason: "out_of_range",
        detail: `${path} has ${value.length} items, more than ${MAX_BIRTH_LIST}`,
      };
    for (const [i, item] of value.entries()) {
      const problem = walk(item, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const [key, item] of Object.entries(value)) {
      const problem = walk(key, `${path} key`) ?? walk(item, `${path}.${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}
