// The machine, read, from /proc, /sys and the root file system directly (host-facts.ts for the birth's OS
// and CPU facts); each can be the host's, mounted into a container (DaemonSet: `agent.procRoot`, `sysRoot`,
// `rootfs`). No systeminformation (issue 14: it was the agent's largest module), whose 5.x on Linux currentLoad() runs `execSync("cat /proc/stat | grep cpu")` (blocking the event loop),
// networkStats("*") re-lists interfaces with one synchronous shell per interface and then spawns `cat` per
// interface, fsStats()/disksIO() spawn `lsblk` pipelines and fsSize() spawns `df`. Reading the same kernel
// files ourselves costs a few small async reads and no processes (bench/agent-results.md has the figures).
import { readdir, readFile, statfs } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { effectiveCores } from "./cpu-quota.ts";
import { readHostFacts } from "./host-facts.ts";
import {
  parseCpuStat,
  parseDefaultRoute,
  parseDiskstats,
  parseMeminfo,
  parseMounts,
  parseNetDev,
} from "./procfs.ts";
import type {
  FilesystemReading,
  InterfaceCounters,
  InterfaceFacts,
  RawReading,
  SampleSource,
  StaticFacts,
} from "./readings.ts";
import { isReportedInterface, realFilesystems } from "./shape.ts";
import { findCpuTemperature } from "./temperature.ts";

export interface SystemSourceOptions {
  /** Where /proc is (a DaemonSet mounts the host's at e.g. /host/proc). */
  procRoot?: string;
  sysRoot?: string;
  /**
   * The host's root file system (e.g. /host/root): its /etc/os-release, and the mount points of the
   * host's mount table (`<procRoot>/1/mounts`) are measured under it. "/" outside a container.
   */
  rootfs?: string;
  /** How often filesystem sizes are refreshed; between refreshes the cached sizes are reported. */
  filesystemEveryMs?: number;
  /** How long the first filesystem read may delay a sample before the cache is used empty. */
  filesystemWaitMs?: number;
  /** Monotonic clock in ms, for rates and the filesystem refresh. */
  monotonic?: () => number;
  logger?: Logger;
}

export const DEFAULT_SYSTEM_SOURCE = {
  procRoot: "/proc",
  sysRoot: "/sys",
  rootfs: "/",
  filesystemEveryMs: 30_000,
  filesystemWaitMs: 2_000,
};

const IFF_UP = 0x1;

export function createSystemSource(options: SystemSourceOptions = {}): SampleSource {
  const { procRoot, sysRoot, rootfs, filesystemEveryMs, filesystemWaitMs } = {
    ...DEFAULT_SYSTEM_SOURCE,
    ...options,
  };
  const monotonic = options.monotonic ?? (() => performance.now());
  const log = options.logger?.child({ part: "sample-source" });
  const proc = (path: string) => readFile(join(procRoot, path), "utf8");

  // Static for the life of the process: found once, lazily.
  let cores: Promise<number> | undefined;
  let temperature: Promise<(() => Promise<number | undefined>) | undefined> | undefined;
  let staticFacts: Promise<Pick<StaticFacts, "os" | "cpu">> | undefined;

  // Filesystem sizes: refreshed in the background so a slow statfs never holds a sample up.
  let filesystems: FilesystemReading[] = [];
  let filesystemsAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | undefined;
  const refreshFilesystems = (): Promise<void> => {
    refreshing ??= readFilesystems(proc, rootfs)
      .then((list) => {
        filesystems = list;
        filesystemsAt = monotonic();
      })
      .catch((error: unknown) => {
        // Retry at the next refresh time, not on every sample.
        filesystemsAt = monotonic();
        log?.warn({ err: error }, "could not read filesystems");
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  /** A fresh list, but never waiting longer than `filesystemWaitMs` for it (a hung mount must not block). */
  const freshFilesystems = async (): Promise<FilesystemReading[]> => {
    await Promise.race([refreshFilesystems(), delay(filesystemWaitMs)]);
    return filesystems;
  };
  const currentFilesystems = async (): Promise<FilesystemReading[]> => {
    if (filesystemsAt === Number.NEGATIVE_INFINITY) return freshFilesystems();
    if (monotonic() - filesystemsAt >= filesystemEveryMs) void refreshFilesystems();
    return filesystems;
  };

  const readInterfaces = async (): Promise<InterfaceCounters[]> => {
    const counters = parseNetDev(await proc("net/dev")).filter((i) => isReportedInterface(i.name));
    return Promise.all(
      counters.map(async (i) => ({ ...i, up: await interfaceUp(join(sysRoot, "class/net", i.name)) })),
    );
  };

  return {
    async facts() {
      cores ??= effectiveCores({ procRoot });
      staticFacts ??= readHostFacts({ procRoot, sysRoot, rootfs }, cores);
      const [{ os: osFacts, cpu }, meminfo, fsList, interfaces] = await Promise.all([
        staticFacts,
        proc("meminfo"),
        freshFilesystems(),
        readInterfaceFacts(sysRoot, proc),
      ]);
      const memory = parseMeminfo(meminfo);
      return {
        hostname: os.hostname(),
        os: osFacts,
        cpu,
        memoryTotalBytes: memory.totalBytes,
        swapTotalBytes: memory.swapTotalBytes,
        filesystems: fsList,
        interfaces,
      };
    },

    async read() {
      cores ??= effectiveCores({ procRoot });
      temperature ??= findCpuTemperature(sysRoot);
      const [stat, meminfo, diskstats, route, route6, interfaces, fsList, coreCount, readTemperature] =
        await Promise.all([
          proc("stat"),
          proc("meminfo"),
          proc("diskstats").catch(() => ""),
          proc("net/route").catch(() => ""),
          proc("net/ipv6_route").catch(() => ""),
          readInterfaces(),
          currentFilesystems(),
          cores,
          temperature,
        ]);
      const monoMs = monotonic();
      const cpu = parseCpuStat(stat);
      const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg(); // one sysinfo(2) call, cheaper than reading /proc/loadavg
      return {
        monoMs,
        cpuTotal: cpu.total,
        cpuCores: cpu.cores,
        cores: coreCount,
        load: [l1, l5, l15],
        memory: parseMeminfo(meminfo),
        filesystems: fsList,
        disks: parseDiskstats(diskstats),
        interfaces,
        defaultInterface: parseDefaultRoute(route, route6),
        uptimeSeconds: os.uptime(),
        cpuTemperatureCelsius: readTemperature ? await readTemperature() : undefined,
      } satisfies RawReading;
    },
  };
}

/**
 * Real filesystems and their sizes. Under a separate root (a container with the host's / mounted), the
 * host's mount table is init's (`1/mounts`) and each mount point is measured under the root; the reported
 * mount points are the host's own.
 */
async function readFilesystems(
  proc: (path: string) => Promise<string>,
  rootfs: string,
): Promise<FilesystemReading[]> {
  const table =
    rootfs === "/" ? await proc("self/mounts") : await proc("1/mounts").catch(() => proc("self/mounts"));
  const mounts = realFilesystems(parseMounts(table));
  const read = await Promise.all(
    mounts.map(async (m) => {
      try {
        const s = await statfs(join(rootfs, m.mount));
        return {
          ...m,
          sizeBytes: s.blocks * s.bsize,
          usedBytes: (s.blocks - s.bfree) * s.bsize,
          availableBytes: s.bavail * s.bsize,
        };
      } catch {
        return undefined; // unmounted between reading the table and statfs, or not permitted
      }
    }),
  );
  return read.filter((fs): fs is FilesystemReading => fs !== undefined && fs.sizeBytes > 0);
}

/**
 * Interface facts from os.networkInterfaces() (addresses, MAC) and sysfs (type, speed). systeminformation's
 * networkInterfaces() runs a synchronous shell per interface, which on a K3s node with one veth per pod
 * blocks the event loop for a long time.
 */
async function readInterfaceFacts(
  sysRoot: string,
  proc: (path: string) => Promise<string>,
): Promise<InterfaceFacts[]> {
  const addressed = os.networkInterfaces();
  const names = parseNetDev(await proc("net/dev"))
    .map((i) => i.name)
    .filter(isReportedInterface);
  return Promise.all(
    names.map(async (name) => {
      const dir = join(sysRoot, "class/net", name);
      const entries = await readdir(dir).catch(() => [] as string[]);
      const virtual = !entries.includes("device");
      const wireless = entries.includes("wireless") || entries.includes("phy80211");
      const speed = Number((await readFile(join(dir, "speed"), "utf8").catch(() => "")).trim());
      const infos = addressed[name] ?? [];
      const mac = infos[0]?.mac ?? (await readFile(join(dir, "address"), "utf8").catch(() => "")).trim();
      return {
        name,
        mac,
        addresses: infos.map((a) => a.cidr ?? a.address),
        type: wireless ? "wireless" : virtual ? "virtual" : "wired",
        virtual,
        speedMbps: Number.isFinite(speed) && speed > 0 ? speed : 0,
      };
    }),
  );
}

/**
 * Up = administratively up (IFF_UP) with a carrier or no notion of one: tun and WireGuard interfaces
 * report operstate "unknown" while passing traffic; a cable-less NIC reports "down" despite IFF_UP.
 */
async function interfaceUp(dir: string): Promise<boolean> {
  const [flags, operstate] = await Promise.all([
    readFile(join(dir, "flags"), "utf8").catch(() => "0"),
    readFile(join(dir, "operstate"), "utf8").catch(() => "down"),
  ]);
  const state = operstate.trim();
  return (Number.parseInt(flags.trim(), 16) & IFF_UP) !== 0 && (state === "up" || state === "unknown");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
