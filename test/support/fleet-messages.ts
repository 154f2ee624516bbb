// Builders of realistic contract messages for coordinator tests and benchmarks (not used at run time).
import {
  createMessage,
  type NodeBirth,
  type NodeStatus,
  type NodeTelemetry,
  PeerState,
  timestamp,
} from "../../proto/index.ts";

const GiB = 1024n ** 3n;

export interface BirthFacts {
  session: number;
  nodeId: string;
  hostname?: string;
  intervalMs?: number;
  timeMs?: number;
  keepaliveSeconds?: number;
  /** NodeBirth.install_id; "" (an agent older than the field) unless given. */
  installId?: string;
}

export function birth({
  session,
  nodeId,
  hostname,
  intervalMs = 1000,
  timeMs = 0,
  keepaliveSeconds = 0,
  installId = "",
}: BirthFacts): NodeBirth {
  return createMessage("birth", {
    nodeId,
    session: BigInt(session),
    time: timestamp(timeMs),
    agentVersion: "0.1.0",
    hostname: hostname ?? nodeId,
    k8sNodeName: nodeId,
    os: { platform: "linux", distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0", arch: "x64" },
    cpu: { manufacturer: "Intel", model: "Xeon", cores: 4, physicalCores: 2, speedGhz: 2.4 },
    memoryTotalBytes: 8n * GiB,
    filesystems: [{ mount: "/", device: "/dev/sda1", type: "ext4", sizeBytes: 64n * GiB }],
    interfaces: [{ name: "eth0", mac: "02:00:00:00:00:01", addresses: ["10.0.0.2/24"], type: "wired" }],
    labels: { zone: "edge-1" },
    intervalMs,
    keepaliveSeconds,
    installId,
  });
}

export interface Sample {
  session: number;
  seq: number;
  timeMs?: number;
  cpu?: number;
  /** Memory use in percent of 8 GiB. */
  memory?: number;
  historical?: boolean;
  disk?: number;
}

export function telemetry(s: Sample): NodeTelemetry {
  const total = 8n * GiB;
  const used = (total * BigInt(Math.round((s.memory ?? 50) * 100))) / 10_000n;
  return createMessage("telemetry", {
    session: BigInt(s.session),
    seq: BigInt(s.seq),
    time: timestamp(s.timeMs ?? 0),
    historical: s.historical ?? false,
    cpu: {
      usagePercent: s.cpu ?? 25,
      coreUsagePermille: [250, 300, 200, 250],
      cores: 4,
      load1m: 0.5,
      load5m: 0.4,
      load15m: 0.3,
    },
    memory: {
      totalBytes: total,
      availableBytes: total - used,
      usedBytes: used,
      freeBytes: total - used,
      swapTotalBytes: GiB,
      swapUsedBytes: 0n,
    },
    filesystems: [
      { mount: "/", sizeBytes: 64n * GiB, usedBytes: 26n * GiB, usePercent: s.disk ?? 41 },
      { mount: "/var/lib/rancher", sizeBytes: 128n * GiB, usedBytes: 12n * GiB, usePercent: 9.4 },
    ],
    diskIo: { readBytesPerSec: 1_000_000n, writeBytesPerSec: 250_000n },
    network: {
      defaultInterface: "eth0",
      interfaces: [
        { name: "eth0", up: true, rxBytesPerSec: 12_000n, txBytesPerSec: 3_400n },
        { name: "wg0", up: true, rxBytesPerSec: 800n, txBytesPerSec: 900n },
      ],
    },
    health: { online: true, internet: true, vpn: true, vpnInterface: "wg0" },
    uptimeSeconds: 86_400n,
    cpuTemperatureCelsius: 48.5,
  });
}

export function status(state: "online" | "offline", session: number, timeMs = 0, installId = ""): NodeStatus {
  return createMessage("nodeStatus", {
    state: state === "online" ? PeerState.ONLINE : PeerState.OFFLINE,
    session: BigInt(session),
    time: timestamp(timeMs),
    installId,
  });
}
