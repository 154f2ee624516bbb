import { describe, expect, it } from "vitest";
import { createMessage, encode, toJson } from "../proto/index.ts";
import { createFakeSource, FAKE_FACTS } from "../test/support/fake-source.ts";
import type { RawReading } from "./readings.ts";
import {
  isRealFilesystem,
  isReportedInterface,
  isWholeDisk,
  realFilesystems,
  shapeBirth,
  shapeTelemetry,
  vpnInterface,
} from "./shape.ts";

const NOW = Date.UTC(2024, 0, 15, 10, 30, 45);
const healthy = { linkConnected: true, internet: true };

async function twoReadings(): Promise<[RawReading, RawReading]> {
  const source = createFakeSource({ stepMs: 2000 });
  return [await source.read(), await source.read()];
}

describe("filters", () => {
  it.each([
    { type: "ext4", device: "/dev/sda1", mount: "/", real: true },
    { type: "xfs", device: "/dev/mapper/vg-data", mount: "/data", real: true },
    { type: "btrfs", device: "/dev/nvme0n1p2", mount: "/home", real: true },
    { type: "zfs", device: "rpool/ROOT/debian", mount: "/", real: true },
    { type: "fuseblk", device: "/dev/sdb1", mount: "/mnt/usb", real: true },
    { type: "tmpfs", device: "tmpfs", mount: "/run", real: false },
    { type: "devtmpfs", device: "udev", mount: "/dev", real: false },
    { type: "overlay", device: "overlay", mount: "/var/lib/rancher/k3s/agent/containerd/x", real: false },
    { type: "squashfs", device: "/dev/loop3", mount: "/snap/core/1", real: false },
    { type: "cgroup2", device: "cgroup2", mount: "/sys/fs/cgroup", real: false },
    { type: "proc", device: "proc", mount: "/proc", real: false },
    { type: "nfs4", device: "nas:/export", mount: "/mnt/nas", real: false },
    { type: "fuse.lxcfs", device: "lxcfs", mount: "/var/lib/lxcfs", real: false },
  ])("$type on $mount is real: $real", ({ real, ...entry }) => {
    expect(isRealFilesystem(entry)).toBe(real);
  });

  it("keeps one entry per device, under its shortest mount path", () => {
    const entries = [
      { device: "/dev/sda1", mount: "/var/lib/kubelet/pods/abc/volumes/x", type: "ext4" },
      { device: "/dev/sda1", mount: "/", type: "ext4" },
      { device: "/dev/sdb1", mount: "/data", type: "xfs" },
      { device: "tmpfs", mount: "/run", type: "tmpfs" },
    ];
    expect(realFilesystems(entries).map((e) => e.mount)).toEqual(["/", "/data"]);
  });

  it.each([
    { name: "eth0", reported: true },
    { name: "wlan0", reported: true },
    { name: "cni0", reported: true },
    { name: "flannel.1", reported: true },
    { name: "wg0", reported: true },
    { name: "lo", reported: false },
    { name: "veth9a8b7c6d", reported: false },
  ])("interface $name reported: $reported", ({ name, reported }) => {
    expect(isReportedInterface(name)).toBe(reported);
  });

  it.each([
    { interfaces: [{ name: "wg0", up: true }], vpn: "wg0" },
    { interfaces: [{ name: "tun0", up: true }], vpn: "tun0" },
    { interfaces: [{ name: "tap1", up: true }], vpn: "tap1" },
    { interfaces: [{ name: "ppp0", up: true }], vpn: "ppp0" },
    { interfaces: [{ name: "utun3", up: true }], vpn: "utun3" },
    { interfaces: [{ name: "ipsec0", up: true }], vpn: "ipsec0" },
    { interfaces: [{ name: "wg0", up: false }], vpn: undefined },
    { interfaces: [{ name: "eth0", up: true }], vpn: undefined },
    {
      interfaces: [
        { name: "eth0", up: true },
        { name: "tun0", up: false },
        { name: "wg1", up: true },
      ],
      vpn: "wg1",
    },
  ])("VPN among $interfaces is $vpn", ({ interfaces, vpn }) => {
    expect(vpnInterface(interfaces)).toBe(vpn);
  });

  it.each([
    { name: "sda", whole: true },
    { name: "vda", whole: true },
    { name: "xvda", whole: true },
    { name: "nvme0n1", whole: true },
    { name: "mmcblk0", whole: true },
    { name: "sda1", whole: false },
    { name: "nvme0n1p2", whole: false },
    { name: "mmcblk0p2", whole: false },
    { name: "mmcblk0boot0", whole: false },
    { name: "dm-0", whole: false },
    { name: "md127", whole: false },
    { name: "loop3", whole: false },
    { name: "zram0", whole: false },
    { name: "sr0", whole: false },
  ])("disk $name counted: $whole", ({ name, whole }) => {
    expect(isWholeDisk(name)).toBe(whole);
  });
});

describe("shapeTelemetry", () => {
  it("turns counter differences into per-second rates and per-mille core use", async () => {
    const [first, second] = await twoReadings();
    const { counters } = shapeTelemetry(first, undefined, NOW, healthy);
    const { telemetry } = shapeTelemetry(second, counters, NOW + 2000, healthy);
    expect(telemetry.cpu).toEqual({
      usagePercent: 37.5,
      coreUsagePermille: [250, 500],
      cores: 2,
      load1m: 0.52,
      load5m: 0.4,
      load15m: 0.31,
    });
    // Only the whole disk counts: its partition moves the same bytes.
    expect(telemetry.diskIo).toEqual({ readBytesPerSec: 4096n, writeBytesPerSec: 8192n });
    expect(telemetry.network).toEqual({
      defaultInterface: "eth0",
      interfaces: [
        { name: "eth0", up: true, rxBytesPerSec: 2048n, txBytesPerSec: 1024n },
        { name: "wg0", up: true, rxBytesPerSec: 100n, txBytesPerSec: 100n },
      ],
    });
    expect(telemetry.health).toEqual({ online: true, internet: true, vpn: true, vpnInterface: "wg0" });
    expect(telemetry.memory).toEqual({
      totalBytes: 4n * 1024n ** 3n,
      availableBytes: 3n * 1024n ** 3n,
      usedBytes: 1024n ** 3n,
      freeBytes: 2n * 1024n ** 3n,
      swapTotalBytes: 0n,
      swapUsedBytes: 0n,
    });
    expect(telemetry.filesystems).toEqual([
      { mount: "/", sizeBytes: 64_000_000_000n, usedBytes: 16_000_000_000n, usePercent: 26.67 },
    ]);
    expect(telemetry.uptimeSeconds).toBe(BigInt(3 * 86_400 + 4 * 3_600 + 4));
    expect(telemetry.cpuTemperatureCelsius).toBe(48.5);
  });

  it("reports since-boot CPU and zero rates without a previous reading", async () => {
    const [first] = await twoReadings();
    const { telemetry } = shapeTelemetry(first, undefined, NOW, healthy);
    expect(telemetry.cpu?.usagePercent).toBe(37.5);
    expect(telemetry.diskIo).toEqual({ readBytesPerSec: 0n, writeBytesPerSec: 0n });
    expect(telemetry.network?.interfaces?.every((i) => i.rxBytesPerSec === 0n)).toBe(true);
  });

  it("gives 0, not a negative or huge rate, when a counter resets or an interface appears", async () => {
    const [first, second] = await twoReadings();
    const { counters } = shapeTelemetry(second, undefined, NOW, healthy);
    const reset: RawReading = {
      ...first,
      monoMs: second.monoMs + 1000,
      interfaces: [...first.interfaces, { name: "usb0", up: true, rxBytes: 9e9, txBytes: 9e9 }],
    };
    const { telemetry } = shapeTelemetry(reset, counters, NOW, healthy);
    expect(telemetry.diskIo).toEqual({ readBytesPerSec: 0n, writeBytesPerSec: 0n });
    expect(telemetry.network?.interfaces?.map((i) => [i.name, i.rxBytesPerSec])).toEqual([
      ["eth0", 0n],
      ["wg0", 0n],
      ["usb0", 0n],
    ]);
    expect(telemetry.cpu?.usagePercent).toBe(0);
  });

  it.each([
    { linkConnected: true, defaultInterface: "eth0", online: true },
    { linkConnected: false, defaultInterface: "eth0", online: false },
    { linkConnected: true, defaultInterface: undefined, online: false },
  ])("online is $online with link $linkConnected and default route $defaultInterface", async (row) => {
    const [first] = await twoReadings();
    const reading = { ...first, defaultInterface: row.defaultInterface };
    const { telemetry } = shapeTelemetry(reading, undefined, NOW, {
      linkConnected: row.linkConnected,
      internet: false,
    });
    expect(telemetry.health?.online).toBe(row.online);
    expect(telemetry.network?.defaultInterface).toBe(row.defaultInterface ?? "");
  });

  it("leaves the temperature out where the machine has none", async () => {
    const [first] = await twoReadings();
    const { telemetry } = shapeTelemetry(
      { ...first, cpuTemperatureCelsius: undefined },
      undefined,
      NOW,
      healthy,
    );
    const message = createMessage("telemetry", { ...telemetry, session: 1n, seq: 1n });
    expect(message.cpuTemperatureCelsius).toBeUndefined();
    expect(toJson("telemetry", message)).not.toContain("cpuTemperatureCelsius");
  });

  it("fits a typical 2-core sample in 200 bytes of protobuf, far below its JSON", async () => {
    const [first, second] = await twoReadings();
    // A busy day: big counters, a long session, a realistic uptime and sizes.
    const busy: RawReading = {
      ...second,
      memory: { ...second.memory, totalBytes: 7.8e9, availableBytes: 4.1e9, freeBytes: 1.2e9 },
      uptimeSeconds: 86_400 * 123,
    };
    const { counters } = shapeTelemetry(first, undefined, NOW, healthy);
    const { telemetry } = shapeTelemetry(busy, counters, NOW + 2000, healthy);
    const message = createMessage("telemetry", { ...telemetry, session: 123_456n, seq: 987_654n });
    const protobuf = encode("telemetry", message).byteLength;
    const json = new TextEncoder().encode(toJson("telemetry", message)).byteLength;
    expect(protobuf).toBeLessThanOrEqual(200);
    expect(protobuf * 3).toBeLessThan(json);
  });
});

describe("shapeBirth", () => {
  it("carries the static facts, filtered like telemetry, with session and labels", () => {
    const birth = shapeBirth(FAKE_FACTS, {
      nodeId: "edge-01",
      session: 7n,
      nowMs: NOW,
      agentVersion: "0.1.0",
      k8sNodeName: "edge-01.k3s",
      labels: { zone: "shop-floor" },
      intervalMs: 5000,
    });
    const message = createMessage("birth", birth);
    expect(message).toMatchObject({
      nodeId: "edge-01",
      session: 7n,
      hostname: "edge-01",
      k8sNodeName: "edge-01.k3s",
      agentVersion: "0.1.0",
      memoryTotalBytes: 4n * 1024n ** 3n,
      labels: { zone: "shop-floor" },
      intervalMs: 5000,
      cpu: { model: "Cortex-A76", cores: 2 },
    });
    expect(message.filesystems.map((f) => f.mount)).toEqual(["/"]);
    expect(message.interfaces.map((i) => i.name)).toEqual(["eth0"]);
    expect(message.time?.seconds).toBe(BigInt(NOW / 1000));
  });
});
