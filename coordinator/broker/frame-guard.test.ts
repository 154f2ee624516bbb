import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { createFrameGuard } from "./frame-guard.ts";

const limits = { maxConnectBytes: 64 * 1024, maxPacketBytes: 1024 * 1024 };

function connect(extra = 0): Buffer {
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    clientId: `c${"x".repeat(extra)}`,
    keepalive: 10,
  });
}

function publish(bytes: number): Buffer {
  return mqttPacket.generate({
    cmd: "publish",
    topic: "t/x",
    payload: Buffer.alloc(bytes, 7),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });
}

describe("createFrameGuard", () => {
  it("follows a stream of legal packets cut at every position", () => {
    const stream = Buffer.concat([
      connect(),
      publish(0),
      publish(127),
      publish(128),
      publish(16_383),
      publish(16_384),
      publish(200_000),
      mqttPacket.generate({ cmd: "pingreq" }),
    ]);
    for (const size of [1, 2, 3, 5, 7, 1000, 65_536, stream.length]) {
      const guard = createFrameGuard(limits);
      const violations = [];
      for (let at = 0; at < stream.length; at += size)
        violations.push(guard.feed(stream.subarray(at, at + size)));
      expect(violations.filter((v) => v !== undefined)).toEqual([]);
      expect(guard.packets).toBe(8);
    }
  });

  it("refuses a CONNECT announcing more than maxConnectBytes at its fixed header", () => {
    const guard = createFrameGuard(limits);
    // 0x10, remaining length 268,435,455 (the MQTT maximum), no body yet.
    expect(guard.feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({
      reason: "connect_too_large",
    });
    expect(guard.feed(Buffer.from([0]))).toMatchObject({ reason: "connect_too_large" });
  });

  it("accepts a CONNECT of exactly maxConnectBytes and refuses one byte more", () => {
    const header = (length: number) => {
      const bytes = [0x10];
      let n = length;
      do {
        let b = n % 128;
        n = Math.floor(n / 128);
        if (n > 0) b |= 0x80;
        bytes.push(b);
      } while (n > 0);
      return Buffer.from(bytes);
    };
    expect(createFrameGuard(limits).feed(header(64 * 1024))).toBeUndefined();
    expect(createFrameGuard(limits).feed(header(64 * 1024 + 1))).toMatchObject({
      reason: "connect_too_large",
    });
  });

  it("refuses a later packet above maxPacketBytes before its body, and a first packet that is not CONNECT", () => {
    const guard = createFrameGuard(limits);
    expect(guard.feed(connect())).toBeUndefined();
    expect(guard.feed(publish(1024 * 1024).subarray(0, 5))).toMatchObject({ reason: "packet_too_large" });
    expect(createFrameGuard(limits).feed(publish(10))).toMatchObject({ reason: "not_connect_first" });
  });

  it("refuses a remaining length longer than four bytes", () => {
    const guard = createFrameGuard(limits);
    expect(guard.feed(connect())).toBeUndefined();
    expect(guard.feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80]))).toMatchObject({
      reason: "malformed_length",
    });
  });
});
