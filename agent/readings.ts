// What a SampleSource reads and what the pure shaping turns into wire messages. Plain data, no I/O:
// the seam between the machine (sample-source.ts) and the contract (shape.ts).

/** Cumulative CPU time of one /proc/stat line, in clock ticks. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface MemoryReading {
  totalBytes: number;
  availableBytes: number;
  freeBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

export interface MountEntry {
  device: string;
  mount: string;
  type: string;
}

export interface FilesystemReading extends MountEntry {
  sizeBytes: number;
  usedBytes: number;
  /** Free space usable by unprivileged users (statfs f_bavail), as `df` counts it. */
  availableBytes: number;
}

/** Cumulative bytes moved by one block device since boot. */
export interface DiskCounters {
  name: string;
  readBytes: number;
  writeBytes: number;
}

/** Cumulative bytes of one network interface since it appeared. */
export interface InterfaceCounters {
  name: string;
  up: boolean;
  rxBytes: number;
  txBytes: number;
}

export interface RawReading {
  /** Monotonic time of the reading in ms (not wall clock): rates divide by its differences. */
  monoMs: number;
  cpuTotal: CpuTimes;
  cpuCores: CpuTimes[];
  /** Logical cores usable by the agent (cgroup quota applied). */
  cores: number;
  load: [number, number, number];
  memory: MemoryReading;
  filesystems: FilesystemReading[];
  disks: DiskCounters[];
  interfaces: InterfaceCounters[];
  /** Interface of the default route (IPv4 first, then IPv6); undefined when there is none. */
  defaultInterface: string | undefined;
  uptimeSeconds: number;
  cpuTemperatureCelsius: number | undefined;
}

export interface InterfaceFacts {
  name: string;
  mac: string;
  addresses: string[];
  /** "wired", "wireless" or "virtual". */
  type: string;
  virtual: boolean;
  speedMbps: number;
}

/** Facts that do not change between samples; read at start and refreshed on reconnect. */
export interface StaticFacts {
  hostname: string;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  cpu: { manufacturer: string; model: string; cores: number; physicalCores: number; speedGhz: number };
  memoryTotalBytes: number;
  swapTotalBytes: number;
  filesystems: FilesystemReading[];
  interfaces: InterfaceFacts[];
}

/** Where the agent's readings come from; injectable so tests and other platforms can replace it. */
export interface SampleSource {
  /** Static facts for the birth message. May be slow (it may run `lscpu`); called at start and per connect. */
  facts(): Promise<StaticFacts>;
  /** One reading of counters and gauges. Must be cheap: it runs every interval. */
  read(): Promise<RawReading>;
}
