import { describe, expect, it } from "vitest";
import { createMessage, decode, encode, messageToJson, timestamp, timestampMs, toJson } from "./codec.ts";
import { NodeSnapshotSchema, PeerState } from "./gen/k3sfleet/v1/fleet_pb.js";

const sample = () =>
  createMessage("telemetry", {
    session: 7n,
    seq: 42n,
    time: timestamp(1_764_000_000_123),
    cpu: {
      usagePercent: 12.5,
      coreUsagePermille: [100, 150],
      cores: 2,
      load1m: 0.25,
      load5m: 0.5,
      load15m: 0.75,
    },
    memory: { totalBytes: 8_000_000_000n, availableBytes: 6_000_000_000n, usedBytes: 2_000_000_000n },
    filesystems: [{ mount: "/", sizeBytes: 100n, usedBytes: 40n, usePercent: 40 }],
    network: { defaultInterface: "eth0", interfaces: [{ name: "eth0", up: true, rxBytesPerSec: 1200n }] },
    health: { online: true, internet: false, vpn: false },
    uptimeSeconds: 3600n,
    cpuTemperatureCelsius: 48.5,
  });

describe("codec", () => {
  it("round-trips telemetry through protobuf bytes", () => {
    const bytes = encode("telemetry", sample());
    const decoded = decode("telemetry", bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.message.seq).toBe(42n);
    expect(decoded.message.session).toBe(7n);
    expect(decoded.message.cpu?.coreUsagePermille).toEqual([100, 150]);
    expect(decoded.message.memory?.totalBytes).toBe(8_000_000_000n);
    expect(decoded.message.cpuTemperatureCelsius).toBe(48.5);
    expect(timestampMs(decoded.message.time)).toBe(1_764_000_000_123);
  });

  it("keeps an absent temperature absent (optional field)", () => {
    const m = sample();
    m.cpuTemperatureCelsius = undefined;
    const decoded = decode("telemetry", encode("telemetry", m));
    expect(decoded.ok && decoded.message.cpuTemperatureCelsius).toBeUndefined();
  });

  it("round-trips a status with its enum", () => {
    const status = createMessage("nodeStatus", { state: PeerState.OFFLINE, session: 3n });
    const decoded = decode("nodeStatus", encode("nodeStatus", status));
    expect(decoded.ok && decoded.message.state).toBe(PeerState.OFFLINE);
  });

  it("reports garbage and truncated payloads as values, never throws", () => {
    const bytes = encode("telemetry", sample());
    const truncated = decode("telemetry", bytes.subarray(0, bytes.length - 3));
    expect(truncated).toMatchObject({ ok: false, reason: "decode_error" });
    expect(decode("telemetry", new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toMatchObject({ ok: false });
  });

  it("refuses payloads above the size limit before decoding", () => {
    expect(decode("telemetry", new Uint8Array(2048), 1024)).toMatchObject({ ok: false, reason: "oversized" });
  });

  it("prints canonical proto3 JSON: lowerCamel names, 64-bit ints as strings, RFC 3339 time, enum names", () => {
    const json = JSON.parse(toJson("telemetry", sample()));
    expect(json).toMatchObject({
      session: "7",
      seq: "42",
      time: "2025-11-24T16:00:00.123Z",
      uptimeSeconds: "3600",
    });
    expect(json.cpu.usagePercent).toBe(12.5);
    const status = JSON.parse(toJson("nodeStatus", createMessage("nodeStatus", { state: PeerState.ONLINE })));
    expect(status.state).toBe("PEER_STATE_ONLINE");
    expect(toJson("nodeStatus", createMessage("nodeStatus", {}), true)).toBe("{}");
  });

  it("prints a snapshot (not bound to a topic) as indented JSON", () => {
    const snap = { $typeName: "k3sfleet.v1.NodeSnapshot", telemetry: sample() } as const;
    const text = messageToJson(NodeSnapshotSchema, snap, true);
    expect(text).toContain('\n  "telemetry": {');
  });

  it("keeps a representative 2-core sample far smaller than its JSON", () => {
    const bytes = encode("telemetry", sample()).byteLength;
    expect(bytes).toBeLessThanOrEqual(200);
    expect(bytes * 2).toBeLessThan(toJson("telemetry", sample()).length);
  });
});
