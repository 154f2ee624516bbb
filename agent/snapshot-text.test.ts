import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createMessage, NodeSnapshotSchema } from "../proto/index.ts";
import { formatBytes, formatRate, formatUptime, renderSnapshot } from "./snapshot-text.ts";

const NOW = Date.UTC(2024, 0, 15, 10, 30, 45);
const time = { seconds: BigInt(NOW / 1000), nanos: 0 };

describe("formatters", () => {
  it.each([
    { bytes: 512, text: "512 B" },
    { bytes: 1536, text: "1.5 KiB" },
    { bytes: 7.2 * 1024 ** 3, text: "7.2 GiB" },
    { bytes: 16 * 1024 ** 3, text: "16.0 GiB" },
    { bytes: 250 * 1024 ** 3, text: "250 GiB" },
    { bytes: 2 * 1024 ** 4, text: "2.0 TiB" },
  ])("formatBytes($bytes) = $text", ({ bytes, text }) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    { rate: 0, text: "0.0 KiB/s" },
    { rate: 819, text: "0.8 KiB/s" },
    { rate: 1229, text: "1.2 KiB/s" },
    { rate: 5 * 1024 ** 2, text: "5.0 MiB/s" },
  ])("formatRate($rate) = $text", ({ rate, text }) => {
    expect(formatRate(rate)).toBe(text);
  });

  it.each([
    { seconds: 59, text: "0m" },
    { seconds: 3_660, text: "1h 1m" },
    { seconds: 3 * 86_400 + 4 * 3_600 + 59, text: "3d 4h" },
  ])("formatUptime($seconds) = $text", ({ seconds, text }) => {
    expect(formatUptime(seconds)).toBe(text);
  });
});

describe("renderSnapshot", () => {
  it("prints the old tool's capture layout", () => {
    const snapshot = create(NodeSnapshotSchema, {
      birth: createMessage("birth", {
        nodeId: "edge-01",
        hostname: "my-machine",
        agentVersion: "0.1.0",
        time,
        os: { platform: "linux", distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0", arch: "x64" },
        cpu: { manufacturer: "Intel", model: "Core i5-8250U", cores: 4 },
      }),
      telemetry: createMessage("telemetry", {
        time,
        uptimeSeconds: BigInt(3 * 86_400 + 4 * 3_600),
        cpu: { usagePercent: 25.5, cores: 4, load1m: 0.52, load5m: 0.4, load15m: 0.31 },
        memory: { totalBytes: 16n * 1024n ** 3n, usedBytes: BigInt(Math.round(7.2 * 1024 ** 3)) },
        filesystems: [{ mount: "/", sizeBytes: 250n * 1024n ** 3n, usePercent: 41 }],
        diskIo: { readBytesPerSec: 0n, writeBytesPerSec: 2048n },
        network: {
          defaultInterface: "eth0",
          interfaces: [
            { name: "eth0", up: true, rxBytesPerSec: 1229n, txBytesPerSec: 819n },
            { name: "wg0", up: true, rxBytesPerSec: 0n, txBytesPerSec: 0n },
          ],
        },
        health: { online: true, internet: true, vpn: true, vpnInterface: "wg0" },
      }),
    });
    expect(renderSnapshot(snapshot, { utc: true })).toBe(
      [
        "=== K3s Fleet Node Snapshot ===",
        "Timestamp: 2024-01-15 10:30:45",
        "Local System:",
        "  Node: edge-01   Agent: 0.1.0",
        "  Hostname: my-machine   OS: Debian GNU/Linux 12 (linux 6.1.0 x64)   Uptime: 3d 4h",
        "  CPU: Intel Core i5-8250U",
        "  CPU Usage: 25.50% (4 cores)  Load: 0.52 0.40 0.31",
        "  Memory Usage: 45.00% (7.2 GiB / 16.0 GiB)",
        "  Disks: / 41.0% of 250 GiB",
        "  Disk IO: read 0.0 KiB/s write 2.0 KiB/s",
        "  Network: eth0 (default) up rx 1.2 KiB/s tx 0.8 KiB/s",
        "           wg0 up rx 0.0 KiB/s tx 0.0 KiB/s",
        "  Online: true  Internet: true  VPN: true (wg0)",
        "",
      ].join("\n"),
    );
  });

  it("copes with an empty snapshot", () => {
    expect(renderSnapshot(create(NodeSnapshotSchema, {}))).toBe(
      "=== K3s Fleet Node Snapshot ===\nTimestamp: unknown\nLocal System:\n",
    );
  });
});
