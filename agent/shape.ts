// Pure shaping: raw readings + the previous counters + now → the contract's NodeTelemetry and NodeBirth.
// Rates come from counter differences over monotonic time; filters decide what is worth a byte on the wire.
import { type MessageInit, timestamp } from "../proto/index.ts";
import type { CpuTimes, FilesystemReading, MountEntry, RawReading, StaticFacts } from "./readings.ts";

/** A telemetry message before the outbox stamps `session` and `seq` on it. */
export type TelemetryBody = Omit<MessageInit<"telemetry">, "session" | "seq" | "$typeName">;

/** Cumulative counters kept from one sample to the next. */
export interface Counters {
  monoMs: number;
  cpuTotal: CpuTimes;
  cpuCores: CpuTimes[];
  disks: Record<string, { readBytes: number; writeBytes: number }>;
  interfaces: Record<string, { rxBytes: number; txBytes: number }>;
}

export interface HealthInput {
  /** The MQTT link is connected and announced. */
  linkConnected: boolean;
  /** Undefined when no internet target is configured. */
  internet: boolean | undefined;
}

// Kernel and container plumbing: no disk space of their own, or space counted on another mount.
// biome-ignore format: a packed list reads better than one type per line
const PSEUDO_FS = new Set([
  "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
  "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "overlay", "overlayfs", "proc", "pstore",
  "ramfs", "rootfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
  "iso9660", "aufs", "nfsd", "shm",
]);
// Network filesystems are left out: statfs on one whose server is gone blocks a libuv thread indefinitely.
// biome-ignore format: a packed list reads better than one type per line
const NETWORK_FS = new Set(["nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs", "davfs"]);
const VPN_INTERFACE = /^(tun|tap|wg|ppp|utun|ipsec)/;

/** A filesystem with space of its own: not pseudo, not network, not a FUSE helper (fuseblk is a disk). */
export function isRealFilesystem(entry: MountEntry): boolean {
  if (PSEUDO_FS.has(entry.type) || NETWORK_FS.has(entry.type)) return false;
  if (entry.type.startsWith("fuse") && entry.type !== "fuseblk") return false;
  return entry.device !== "none";
}

/**
 * Real filesystems, one per device: bind mounts (kubelet volumes, containerd) show the same device many
 * times, and the shortest mount path is the one a person knows it by.
 */
export function realFilesystems<T extends MountEntry>(entries: readonly T[]): T[] {
  const byDevice = new Map<string, T>();
  for (const entry of entries) {
    if (!isRealFilesystem(entry)) continue;
    const seen = byDevice.get(entry.device);
    if (!seen || entry.mount.length < seen.mount.length) byDevice.set(entry.device, entry);
  }
  return [...byDevice.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}

/** Interfaces worth reporting: not loopback, not the host side of a container's veth pair. */
export function isReportedInterface(name: string): boolean {
  return name !== "lo" && !name.startsWith("veth");
}

/** The first VPN tunnel interface that is up, or undefined. */
export function vpnInterface(interfaces: readonly { name: string; up: boolean }[]): string | undefined {
  return interfaces.find((i) => i.up && VPN_INTERFACE.test(i.name))?.name;
}

/**
 * Whole physical disks, so IO is counted once: partitions, device-mapper and md (stacked on disks),
 * loop/ram/zram (memory or files) and optical drives are skipped.
 */
export function isWholeDisk(name: string): boolean {
  if (/^(loop|ram|zram|dm-|md|nbd|sr|fd)\d/.test(name)) return false;
  if (/^(sd|hd|vd|xvd)[a-z]+\d+$/.test(name)) return false;
  if (/^(nvme\d+n\d+|mmcblk\d+)p\d+$/.test(name) || /^mmcblk\d+(boot\d+|rpmb)$/.test(name)) return false;
  return true;
}

export function shapeTelemetry(
  reading: RawReading,
  previous: Counters | undefined,
  nowMs: number,
  health: HealthInput,
): { telemetry: TelemetryBody; counters: Counters } {
  const counters = countersOf(reading);
  const seconds = previous ? (reading.monoMs - previous.monoMs) / 1000 : 0;
  // Without a previous reading CPU use is the average since boot and rates are 0: both honest, neither invented.
  const rate = (now: number, before: number | undefined) =>
    before === undefined || seconds <= 0 ? 0 : Math.max(0, now - before) / seconds;

  let readPerSec = 0;
  let writePerSec = 0;
  for (const [name, now] of Object.entries(counters.disks)) {
    readPerSec += rate(now.readBytes, previous?.disks[name]?.readBytes);
    writePerSec += rate(now.writeBytes, previous?.disks[name]?.writeBytes);
  }

  const interfaces = reading.interfaces.filter((i) => isReportedInterface(i.name));
  const vpn = vpnInterface(reading.interfaces);
  const { memory } = reading;
  const telemetry: TelemetryBody = {
    time: timestamp(nowMs),
    cpu: {
      usagePercent: round2(busyShare(reading.cpuTotal, previous?.cpuTotal) * 100),
      coreUsagePermille: reading.cpuCores.map((core, i) =>
        Math.round(busyShare(core, previous?.cpuCores[i]) * 1000),
      ),
      cores: reading.cores,
      load1m: reading.load[0],
      load5m: reading.load[1],
      load15m: reading.load[2],
    },
    memory: {
      totalBytes: u64(memory.totalBytes),
      availableBytes: u64(memory.availableBytes),
      // "Used" as free(1) and the kernel mean it today: what cannot be reclaimed without swapping.
      usedBytes: u64(memory.totalBytes - memory.availableBytes),
      freeBytes: u64(memory.freeBytes),
      swapTotalBytes: u64(memory.swapTotalBytes),
      swapUsedBytes: u64(memory.swapTotalBytes - memory.swapFreeBytes),
    },
    filesystems: realFilesystems(reading.filesystems).map((fs) => ({
      mount: fs.mount,
      sizeBytes: u64(fs.sizeBytes),
      usedBytes: u64(fs.usedBytes),
      usePercent: round2(usePercent(fs)),
    })),
    diskIo: { readBytesPerSec: u64(readPerSec), writeBytesPerSec: u64(writePerSec) },
    network: {
      defaultInterface: reading.defaultInterface ?? "",
      interfaces: interfaces.map((i) => ({
        name: i.name,
        up: i.up,
        rxBytesPerSec: u64(rate(i.rxBytes, previous?.interfaces[i.name]?.rxBytes)),
        txBytesPerSec: u64(rate(i.txBytes, previous?.interfaces[i.name]?.txBytes)),
      })),
    },
    health: {
      online: reading.defaultInterface !== undefined && health.linkConnected,
      internet: health.internet,
      vpn: vpn !== undefined,
      vpnInterface: vpn ?? "",
    },
    uptimeSeconds: u64(Math.floor(reading.uptimeSeconds)),
  };
  if (reading.cpuTemperatureCelsius !== undefined) {
    telemetry.cpuTemperatureCelsius = round2(reading.cpuTemperatureCelsius);
  }
  return { telemetry, counters };
}

export interface BirthMeta {
  nodeId: string;
  session: bigint;
  nowMs: number;
  agentVersion: string;
  k8sNodeName?: string;
  labels: Readonly<Record<string, string>>;
  intervalMs: number;
  /** The MQTT keepalive the agent connects with, 0 when it does not connect (capture). */
  keepaliveSeconds?: number;
  /** Which install speaks for the node id (identity.ts); "" when unknown (capture). */
  installId?: string;
}

export function shapeBirth(facts: StaticFacts, meta: BirthMeta): MessageInit<"birth"> {
  return {
    nodeId: meta.nodeId,
    session: meta.session,
    time: timestamp(meta.nowMs),
    agentVersion: meta.agentVersion,
    hostname: facts.hostname,
    k8sNodeName: meta.k8sNodeName ?? "",
    os: { ...facts.os },
    cpu: { ...facts.cpu },
    memoryTotalBytes: u64(facts.memoryTotalBytes),
    swapTotalBytes: u64(facts.swapTotalBytes),
    filesystems: realFilesystems(facts.filesystems).map((fs) => ({
      mount: fs.mount,
      device: fs.device,
      type: fs.type,
      sizeBytes: u64(fs.sizeBytes),
    })),
    interfaces: facts.interfaces
      .filter((i) => isReportedInterface(i.name))
      .map((i) => ({ ...i, addresses: [...i.addresses] })),
    labels: { ...meta.labels },
    intervalMs: meta.intervalMs,
    keepaliveSeconds: meta.keepaliveSeconds ?? 0,
    installId: meta.installId ?? "",
  };
}

function countersOf(reading: RawReading): Counters {
  const disks: Counters["disks"] = {};
  for (const d of reading.disks) {
    if (isWholeDisk(d.name)) disks[d.name] = { readBytes: d.readBytes, writeBytes: d.writeBytes };
  }
  const interfaces: Counters["interfaces"] = {};
  for (const i of reading.interfaces) interfaces[i.name] = { rxBytes: i.rxBytes, txBytes: i.txBytes };
  return {
    monoMs: reading.monoMs,
    cpuTotal: reading.cpuTotal,
    cpuCores: reading.cpuCores,
    disks,
    interfaces,
  };
}

/** Share of busy time in [0, 1] since `before`, or since boot without it. */
function busyShare(now: CpuTimes, before: CpuTimes | undefined): number {
  const busy = now.busy - (before?.busy ?? 0);
  const total = now.total - (before?.total ?? 0);
  return total > 0 ? Math.min(1, Math.max(0, busy / total)) : 0;
}

/** Used share as df reports it: root-reserved blocks count as neither used nor available. */
function usePercent(fs: FilesystemReading): number {
  const denominator = fs.usedBytes + fs.availableBytes;
  return denominator > 0 ? (fs.usedBytes / denominator) * 100 : 0;
}

function u64(n: number): bigint {
  return Number.isFinite(n) && n > 0 ? BigInt(Math.round(n)) : 0n;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
