// A deterministic SampleSource for tests and demos: a two-core machine whose counters advance by fixed
// amounts per read, so every rate and percentage it leads to is known in advance.
import type { RawReading, SampleSource, StaticFacts } from "../../agent/readings.ts";

// biome-ignore format: fixture rows read better one per line
export const FAKE_FACTS: StaticFacts = {
  hostname: "edge-01",
  os: { platform: "linux", distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0-18-arm64", arch: "arm64" },
  cpu: { manufacturer: "ARM", model: "Cortex-A76", cores: 2, physicalCores: 2, speedGhz: 2.4 },
  memoryTotalBytes: 4 * 1024 ** 3,
  swapTotalBytes: 0,
  filesystems: [
    { device: "/dev/mmcblk0p2", mount: "/", type: "ext4", sizeBytes: 64e9, usedBytes: 16e9, availableBytes: 44e9 },
    { device: "tmpfs", mount: "/run", type: "tmpfs", sizeBytes: 4e8, usedBytes: 1e6, availableBytes: 3.99e8 },
  ],
  interfaces: [
    { name: "lo", mac: "00:00:00:00:00:00", addresses: ["127.0.0.1/8"], type: "virtual", virtual: true, speedMbps: 0 },
    { name: "eth0", mac: "dc:a6:32:00:00:01", addresses: ["192.168.1.20/24"], type: "wired", virtual: false, speedMbps: 1000 },
  ],
};

export interface FakeSourceOptions {
  /** Milliseconds of monotonic time each read advances (the reading's monoMs). */
  stepMs?: number;
  /** Makes read() throw on the given (1-based) read numbers. */
  failOn?: readonly number[];
  /** Delays each read, to simulate a slow machine. */
  readDelayMs?: number;
}

export interface FakeSource extends SampleSource {
  readonly reads: number;
}

/**
 * Per read: each core is 25% and 50% busy, disk reads 4096 B/s and writes 8192 B/s, eth0 receives
 * 2048 B/s and sends 1024 B/s (over `stepMs`). wg0 is an up VPN; veth1234 and lo must be filtered out.
 */
export function createFakeSource(options: FakeSourceOptions = {}): FakeSource {
  const stepMs = options.stepMs ?? 1000;
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    async facts() {
      return structuredClone(FAKE_FACTS);
    },
    async read(): Promise<RawReading> {
      reads += 1;
      const n = reads;
      if (options.readDelayMs) await new Promise((resolve) => setTimeout(resolve, options.readDelayMs));
      if (options.failOn?.includes(n)) throw new Error(`fake read ${n} failed`);
      const s = (n * stepMs) / 1000;
      return {
        monoMs: n * stepMs,
        cpuTotal: { busy: 75 * s, total: 200 * s },
        cpuCores: [
          { busy: 25 * s, total: 100 * s },
          { busy: 50 * s, total: 100 * s },
        ],
        cores: 2,
        load: [0.52, 0.4, 0.31],
        memory: {
          totalBytes: FAKE_FACTS.memoryTotalBytes,
          availableBytes: 3 * 1024 ** 3,
          freeBytes: 2 * 1024 ** 3,
          swapTotalBytes: 0,
          swapFreeBytes: 0,
        },
        filesystems: FAKE_FACTS.filesystems,
        disks: [
          { name: "mmcblk0", readBytes: 4096 * s, writeBytes: 8192 * s },
          { name: "mmcblk0p2", readBytes: 4096 * s, writeBytes: 8192 * s },
        ],
        interfaces: [
          { name: "lo", up: true, rxBytes: 1e6 * s, txBytes: 1e6 * s },
          { name: "eth0", up: true, rxBytes: 2048 * s, txBytes: 1024 * s },
          { name: "wg0", up: true, rxBytes: 100 * s, txBytes: 100 * s },
          { name: "veth1234", up: true, rxBytes: 5e5 * s, txBytes: 5e5 * s },
        ],
        defaultInterface: "eth0",
        uptimeSeconds: 3 * 86_400 + 4 * 3_600 + s,
        cpuTemperatureCelsius: 48.5,
      };
    },
  };
}
