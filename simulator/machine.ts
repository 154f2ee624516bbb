// A virtual node's fixed facts, drawn once from (seed, index): hardware class, cores, memory, filesystems,
// interfaces, and the parameters of its load pattern. Pure; the same seed gives the same fleet.
import { type MessageInit, timestamp } from "../proto/index.ts";
import { createRng, hashSeed, type Rng } from "./rng.ts";

const GiB = 1024 ** 3;

export interface FilesystemProfile {
  mount: string;
  device: string;
  type: string;
  sizeBytes: number;
  /** Share used when the simulation starts. */
  initialUse: number;
  /** How fast it fills, in bytes per second. */
  fillBytesPerSec: number;
}

export interface InterfaceProfile {
  name: string;
  mac: string;
  address: string;
  type: "wired" | "wireless" | "virtual";
  speedMbps: number;
  /** Share of the node's traffic that crosses this interface. */
  trafficShare: number;
}

export interface MachineProfile {
  index: number;
  nodeId: string;
  hardware: string;
  zone: string;
  cores: number;
  physicalCores: number;
  cpuManufacturer: string;
  cpuModel: string;
  speedGhz: number;
  memoryBytes: number;
  swapBytes: number;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  filesystems: FilesystemProfile[];
  interfaces: InterfaceProfile[];
  defaultInterface: string;
  vpnInterface: string | undefined;
  /** CPU use at the quietest time of day, and how much the busiest adds on top (percent). */
  cpuBase: number;
  cpuAmplitude: number;
  /** Standard deviation of sample-to-sample CPU noise (percent). */
  cpuNoise: number;
  /** Where in the day this node peaks, as a fraction of the period (its "time zone" and habits). */
  phase: number;
  /** Mean-reverting level of memory in use (share of total). */
  memoryBase: number;
  /** Share of available memory that is truly free (the rest is page cache). */
  freeShare: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  /** Idle temperature; undefined where the machine has no sensor (most VMs). */
  idleCelsius: number | undefined;
  /** How long the node had been up when the simulation started. */
  initialUptimeMs: number;
}

interface HardwareClass {
  name: string;
  weight: number;
  arch: "arm64" | "x64";
  manufacturer: string;
  models: readonly string[];
  cores: readonly number[];
  memoryGiB: readonly number[];
  speedGhz: [number, number];
  rootGiB: readonly number[];
  rootDevice: string;
  rootType: string;
  dataDisk: boolean;
  wireless: boolean;
  sensor: boolean;
}

// Roughly what edge K3s fleets run on: single-board computers, small x86 boxes, a few servers and VMs.
// biome-ignore format: one class per line reads as a table
const HARDWARE: readonly HardwareClass[] = [
  { name: "rpi4", weight: 30, arch: "arm64", manufacturer: "ARM", models: ["Cortex-A72"], cores: [4], memoryGiB: [1, 2, 4, 8], speedGhz: [1.5, 1.8], rootGiB: [32, 64, 128], rootDevice: "/dev/mmcblk0p2", rootType: "ext4", dataDisk: false, wireless: true, sensor: true },
  { name: "rpi5", weight: 15, arch: "arm64", manufacturer: "ARM", models: ["Cortex-A76"], cores: [4], memoryGiB: [4, 8, 16], speedGhz: [2.4, 2.4], rootGiB: [64, 128, 256], rootDevice: "/dev/nvme0n1p2", rootType: "ext4", dataDisk: false, wireless: true, sensor: true },
  { name: "jetson", weight: 8, arch: "arm64", manufacturer: "ARM", models: ["Cortex-A78AE"], cores: [6, 8, 12], memoryGiB: [8, 16, 32], speedGhz: [1.5, 2.2], rootGiB: [64, 128], rootDevice: "/dev/nvme0n1p1", rootType: "ext4", dataDisk: false, wireless: false, sensor: true },
  { name: "nuc", weight: 25, arch: "x64", manufacturer: "Intel", models: ["Intel(R) Core(TM) i5-1135G7", "Intel(R) N100", "Intel(R) Core(TM) i7-1260P"], cores: [4, 8, 16], memoryGiB: [8, 16, 32], speedGhz: [0.8, 2.4], rootGiB: [256, 512, 1024], rootDevice: "/dev/nvme0n1p2", rootType: "ext4", dataDisk: true, wireless: false, sensor: true },
  { name: "server", weight: 7, arch: "x64", manufacturer: "AMD", models: ["AMD EPYC 3251", "AMD Ryzen Embedded V2718"], cores: [8, 16], memoryGiB: [32, 64], speedGhz: [2.5, 3.1], rootGiB: [480, 960], rootDevice: "/dev/sda2", rootType: "xfs", dataDisk: true, wireless: false, sensor: true },
  { name: "vm", weight: 15, arch: "x64", manufacturer: "Intel", models: ["Intel Xeon Processor (Icelake)", "QEMU Virtual CPU version 2.5+"], cores: [1, 2, 4], memoryGiB: [1, 2, 4], speedGhz: [2.0, 2.9], rootGiB: [20, 40, 80], rootDevice: "/dev/vda1", rootType: "ext4", dataDisk: false, wireless: false, sensor: false },
];
const TOTAL_WEIGHT = HARDWARE.reduce((sum, h) => sum + h.weight, 0);
const ZONES = ["edge-north", "edge-south", "edge-east", "edge-west", "factory-1", "factory-2"] as const;
// biome-ignore format: a packed list
const DISTROS = [
  { distro: "Ubuntu", release: "24.04.2 LTS", kernel: "6.8.0-60-generic" },
  { distro: "Ubuntu", release: "22.04.5 LTS", kernel: "5.15.0-139-generic" },
  { distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0-37" },
  { distro: "Alpine Linux", release: "3.21.3", kernel: "6.12.13-0-lts" },
] as const;
const PI_OS = { distro: "Debian GNU/Linux", release: "12", kernel: "6.12.25+rpt-rpi-v8" } as const;

/** Node ids are `{prefix}-{index + 1}` padded to five digits: sim-00001, sim-00002, … */
export function simNodeId(prefix: string, index: number): string {
  return `${prefix}-${String(index + 1).padStart(5, "0")}`;
}

function pickHardware(rng: Rng): HardwareClass {
  let roll = rng.next() * TOTAL_WEIGHT;
  for (const h of HARDWARE) {
    roll -= h.weight;
    if (roll < 0) return h;
  }
  return HARDWARE[HARDWARE.length - 1] as HardwareClass;
}

function mac(rng: Rng): string {
  const bytes = [0x02, ...Array.from({ length: 5 }, () => rng.int(0, 255))]; // locally administered
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The fixed facts of virtual node `index` in a fleet seeded with `seed`. */
export function machineProfile(seed: number, index: number, prefix: string): MachineProfile {
  const rng = createRng(hashSeed(seed, index, "machine"));
  const hw = pickHardware(rng);
  const cores = rng.pick(hw.cores);
  const memoryBytes = rng.pick(hw.memoryGiB) * GiB;
  const os = hw.name.startsWith("rpi") ? PI_OS : rng.pick(DISTROS);
  const n = index + 1;
  const host = `10.${(1 + (n >>> 16)) % 256}.${(n >>> 8) & 255}.${n & 255}`;

  const rootBytes = rng.pick(hw.rootGiB) * GiB;
  const filesystems: FilesystemProfile[] = [
    {
      mount: "/",
      device: hw.rootDevice,
      type: hw.rootType,
      sizeBytes: rootBytes,
      initialUse: rng.range(0.15, 0.7),
      fillBytesPerSec: rng.range(0, 20_000),
    },
  ];
  if (hw.dataDisk && rng.chance(0.7)) {
    filesystems.push({
      mount: "/var/lib/rancher",
      device: hw.rootDevice.startsWith("/dev/nvme") ? "/dev/nvme1n1p1" : "/dev/sdb1",
      type: "ext4",
      sizeBytes: rng.pick([256, 512, 1024, 2048]) * GiB,
      initialUse: rng.range(0.05, 0.6),
      fillBytesPerSec: rng.range(5_000, 200_000),
    });
  }

  const wired = hw.name === "vm" ? "ens3" : hw.arch === "arm64" ? "eth0" : "enp1s0";
  const onWifi = hw.wireless && rng.chance(0.3);
  const primary: InterfaceProfile = {
    name: onWifi ? "wlan0" : wired,
    mac: mac(rng),
    address: host,
    type: onWifi ? "wireless" : "wired",
    speedMbps: onWifi ? 0 : hw.name === "vm" ? 10_000 : 1_000,
    trafficShare: 1,
  };
  const interfaces: InterfaceProfile[] = [primary];
  const vpn = rng.chance(0.35);
  if (vpn) {
    interfaces.push({
      name: "wg0",
      mac: "",
      address: `100.64.${(n >>> 8) & 255}.${n & 255}`,
      type: "virtual",
      speedMbps: 0,
      trafficShare: rng.range(0.05, 0.4),
    });
  }
  interfaces.push({
    name: "cni0",
    mac: mac(rng),
    address: `10.42.${n & 255}.1`,
    type: "virtual",
    speedMbps: 10_000,
    trafficShare: rng.range(0.2, 0.8),
  });

  const busy = rng.chance(0.2); // some nodes run the heavy workloads
  const scale = memoryBytes / (4 * GiB);
  return {
    index,
    nodeId: simNodeId(prefix, index),
    hardware: hw.name,
    zone: rng.pick(ZONES),
    cores,
    physicalCores: hw.arch === "x64" && cores >= 4 && hw.name !== "vm" ? cores / 2 : cores,
    cpuManufacturer: hw.manufacturer,
    cpuModel: rng.pick(hw.models),
    speedGhz: Math.round(rng.range(hw.speedGhz[0], hw.speedGhz[1]) * 10) / 10,
    memoryBytes,
    swapBytes: hw.name === "vm" || rng.chance(0.6) ? 0 : rng.pick([1, 2, 4]) * GiB,
    os: { platform: "linux", ...os, arch: hw.arch },
    filesystems,
    interfaces,
    defaultInterface: primary.name,
    vpnInterface: vpn ? "wg0" : undefined,
    cpuBase: busy ? rng.range(20, 40) : rng.range(2, 15),
    cpuAmplitude: busy ? rng.range(25, 45) : rng.range(5, 30),
    cpuNoise: rng.range(1.5, 5),
    // Busiest around 14:00 UTC, give or take three hours (fleets span time zones and shifts).
    phase: 14 / 24 + rng.range(-3, 3) / 24,
    memoryBase: rng.range(0.25, 0.75),
    freeShare: rng.range(0.2, 0.6),
    rxBytesPerSec: rng.range(2_000, 400_000) * Math.min(scale, 4),
    txBytesPerSec: rng.range(1_000, 150_000) * Math.min(scale, 4),
    diskReadBytesPerSec: rng.range(10_000, 2_000_000),
    diskWriteBytesPerSec: rng.range(20_000, 3_000_000),
    idleCelsius: hw.sensor ? rng.range(32, 48) : undefined,
    initialUptimeMs: rng.range(600_000, 60 * 86_400_000),
  };
}

export interface BirthMeta {
  session: bigint;
  nowMs: number;
  intervalMs: number;
  keepaliveSeconds: number;
  agentVersion: string;
  /** Extra labels on top of the simulated ones. */
  labels?: Readonly<Record<string, string>>;
}

/** The node's birth message for one session. */
export function birthInit(profile: MachineProfile, meta: BirthMeta): MessageInit<"birth"> {
  return {
    nodeId: profile.nodeId,
    session: meta.session,
    time: timestamp(meta.nowMs),
    agentVersion: meta.agentVersion,
    hostname: profile.nodeId,
    k8sNodeName: profile.nodeId,
    os: profile.os,
    cpu: {
      manufacturer: profile.cpuManufacturer,
      model: profile.cpuModel,
      cores: profile.cores,
      physicalCores: profile.physicalCores,
      speedGhz: profile.speedGhz,
    },
    memoryTotalBytes: BigInt(profile.memoryBytes),
    swapTotalBytes: BigInt(profile.swapBytes),
    filesystems: profile.filesystems.map((fs) => ({
      mount: fs.mount,
      device: fs.device,
      type: fs.type,
      sizeBytes: BigInt(fs.sizeBytes),
    })),
    interfaces: profile.interfaces.map((i) => ({
      name: i.name,
      mac: i.mac,
      addresses: [i.address],
      type: i.type,
      virtual: i.type === "virtual",
      speedMbps: i.speedMbps,
    })),
    labels: {
      "k3s-fleet.io/simulated": "true",
      "node.kubernetes.io/instance-type": profile.hardware,
      "topology.kubernetes.io/zone": profile.zone,
      "kubernetes.io/arch": profile.os.arch === "x64" ? "amd64" : profile.os.arch,
      ...meta.labels,
    },
    intervalMs: meta.intervalMs,
    keepaliveSeconds: meta.keepaliveSeconds,
  };
}
