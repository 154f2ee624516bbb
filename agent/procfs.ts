// Parsers for the Linux /proc and cgroup files the agent reads every sample. Pure: text in, data out,
// so the formats are tested with plain strings and the reads stay in sample-source.ts.
import type { CpuTimes, DiskCounters, MemoryReading, MountEntry } from "./readings.ts";

const SECTOR_BYTES = 512; // /proc/diskstats counts 512-byte sectors whatever the device's block size
const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** Overall and per-core CPU times from /proc/stat. */
export function parseCpuStat(text: string): { total: CpuTimes; cores: CpuTimes[] } {
  let total: CpuTimes = { busy: 0, total: 0 };
  const cores: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const [label, ...fields] = line.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already in user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      fields.map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    const times = { busy, total: busy + idle + iowait };
    if (label === "cpu") total = times;
    else if (/^cpu\d+$/.test(label ?? "")) cores[Number(label?.slice(3))] = times;
  }
  // Offline cores leave holes in the numbering; report what is there, in order.
  return { total, cores: cores.filter((core) => core !== undefined) };
}

/** Memory figures from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): MemoryReading {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match?.[1] && match[2]) kib.set(match[1], Number(match[2]) * 1024);
  }
  const get = (key: string) => kib.get(key) ?? 0;
  // MemAvailable exists since Linux 3.14; older kernels get the classic free + buffers + cache estimate.
  const available = kib.get("MemAvailable") ?? get("MemFree") + get("Buffers") + get("Cached");
  return {
    totalBytes: get("MemTotal"),
    availableBytes: available,
    freeBytes: get("MemFree"),
    swapTotalBytes: get("SwapTotal"),
    swapFreeBytes: get("SwapFree"),
  };
}

/** Bytes read and written per block device from /proc/diskstats. */
export function parseDiskstats(text: string): DiskCounters[] {
  const disks: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[2] === undefined) continue;
    disks.push({
      name: fields[2],
      readBytes: Number(fields[5]) * SECTOR_BYTES,
      writeBytes: Number(fields[9]) * SECTOR_BYTES,
    });
  }
  return disks;
}

/** Received and transmitted bytes per interface from /proc/net/dev. */
export function parseNetDev(text: string): { name: string; rxBytes: number; txBytes: number }[] {
  const result: { name: string; rxBytes: number; txBytes: number }[] = [];
  for (const line of text.split("\n")) {
    // Large counters run into the name ("eth0:123"), so split on the colon, not on blanks.
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (name === "" || fields.length < 9) continue;
    result.push({ name, rxBytes: Number(fields[0]), txBytes: Number(fields[8]) });
  }
  return result;
}

/**
 * The interface of the default route: IPv4 (/proc/net/route) first, else IPv6 (/proc/net/ipv6_route),
 * lowest metric wins. The IPv6 "unreachable" default on `lo` is a reject route, not a way out.
 */
export function parseDefaultRoute(ipv4: string, ipv6 = ""): string | undefined {
  let best: { name: string; metric: number } | undefined;
  for (const line of ipv4.split("\n").slice(1)) {
    const [name, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!name || destination !== "00000000" || mask !== "00000000") continue;
    if ((Number.parseInt(flags ?? "0", 16) & RTF_UP) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { name, metric: m };
  }
  if (best) return best.name;
  for (const line of ipv6.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [destination, prefix, , , , metric, , , flags, name] = f;
    if (!name || name === "lo" || !/^0+$/.test(destination ?? "") || prefix !== "00") continue;
    const bits = Number.parseInt(flags ?? "0", 16);
    if ((bits & RTF_UP) === 0 || (bits & RTF_REJECT) !== 0) continue;
    const m = Number.parseInt(metric ?? "0", 16);
    if (!best || m < best.metric) best = { name, metric: m };
  }
  return best?.name;
}

/** Mount table entries from /proc/mounts; octal escapes (\040 for a space) are decoded. */
export function parseMounts(text: string): MountEntry[] {
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
  const mounts: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, type] = line.split(" ");
    if (device && mount && type) mounts.push({ device: decode(device), mount: decode(mount), type });
  }
  return mounts;
}

/** CPUs granted by a cgroup v2 `cpu.max` ("quota period", or "max period" for no limit). */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max") return undefined;
  return cpusFromQuota(Number(quota), Number(period ?? 100_000));
}

/** CPUs granted by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = no limit). */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return cpusFromQuota(Number(quotaText.trim()), Number(periodText.trim()));
}

function cpusFromQuota(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/** The process's cgroup v2 path and its cgroup v1 `cpu` controller path, from /proc/self/cgroup. */
export function parseSelfCgroup(text: string): { v2?: string; v1Cpu?: string } {
  const result: { v2?: string; v1Cpu?: string } = {};
  for (const line of text.split("\n")) {
    const [id, controllers, ...rest] = line.split(":");
    const path = rest.join(":");
    if (!path) continue;
    if (id === "0" && controllers === "") result.v2 = path;
    else if (controllers?.split(",").includes("cpu")) result.v1Cpu = path;
  }
  return result;
}
