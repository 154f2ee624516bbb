// Attacks on the embedded broker before and around authentication (issue 12, High 1 and 3, Medium "idle
// connections"): each must cost a bounded amount, and each test fails without its bound.
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbeddedBrokerOptions, startEmbeddedBroker } from "../../coordinator/broker/broker.ts";
import { collect } from "../support/auth.ts";
import { EMBEDDED_BROKER_DEFAULTS } from "../support/defaults.ts";
import {
  awaitConnack,
  closedWithin,
  connectPacket,
  fixedHeader,
  openSocket,
  writeFiller,
} from "../support/raw-mqtt.ts";
import { until } from "../support/until.ts";

const logger = pino({ level: "silent" });
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function broker(options: Partial<EmbeddedBrokerOptions> = {}) {
  const b = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger, ...options });
  cleanup.push(() => b.close());
  return b;
}

async function client(url: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  cleanup.push(() => c.endAsync(true));
  return c;
}

describe("memory before authentication", () => {
  it("drops a CONNECT announcing 256 MiB at its fixed header, whatever filler follows", async () => {
    const b = await broker();
    const socket = await openSocket(b.port);
    cleanup.push(async () => socket.destroy());
    socket.on("error", () => undefined);
    socket.write(fixedHeader(1, 268_435_455));
    const writing = writeFiller(socket, 32 * 1024 * 1024);
    expect(await closedWithin(socket, 5000)).toBe(true);
    await writing;
    expect(b.connectionRefusals()).toEqual({ connect_too_large: 1 });
  });

  it("drops a packet above the payload cap before reading it, after CONNECT", async () => {
    const b = await broker({ maxPayloadBytes: 1024 * 1024 });
    const socket = await openSocket(b.port);
    cleanup.push(async () => socket.destroy());
    socket.write(connectPacket({ clientId: "big-publisher" }));
    expect(await awaitConnack(socket)).toBe(0);
    // PUBLISH QoS 0 announcing 100 MiB.
    socket.write(fixedHeader(3, 100 * 1024 * 1024));
    void writeFiller(socket, 8 * 1024 * 1024);
    expect(await closedWithin(socket, 5000)).toBe(true);
    expect(b.connectionRefusals()).toEqual({ packet_too_large: 1 });
  });

  it("still relays a legal packet at the payload cap", async () => {
    const b = await broker({ maxPayloadBytes: 256 * 1024 });
    const sub = await client(b.url);
    await sub.subscribeAsync("t/#", { qos: 1 });
    const seen = collect(sub);
    const pub = await client(b.url);
    await pub.publishAsync(`t/${"x".repeat(1000)}`, Buffer.alloc(256 * 1024, 1), { qos: 1 });
    await until(() => seen.length === 1, 10_000, "the message at the cap");
    expect(b.connectionRefusals()).toEqual({});
  });
});

describe("idle connections without CONNECT", () => {
  it("caps sockets per address that have not connected, and closes idle ones after connectTimeout", async () => {
    const b = await broker({
      connections: {
        ...EMBEDDED_BROKER_DEFAULTS.connections,
        maxPendingPerAddress: 5,
        connectTimeoutMs: 800,
      },
    });
    const sockets = await Promise.all(Array.from({ length: 8 }, () => openSocket(b.port)));
    for (const s of sockets) cleanup.push(async () => s.destroy());
    const closedSoon = await Promise.all(sockets.map((s) => closedWithin(s, 400)));
    expect(closedSoon.filter(Boolean)).toHaveLength(3);
    expect(b.connectionRefusals()).toEqual({ too_many_pending: 3 });
    // The five that were let in are closed when CONNECT does not come in time...
    expect((await Promise.all(sockets.map((s) => closedWithin(s, 3000)))).every(Boolean)).toBe(true);
    // ...after which a real client gets in from the same address.
    const c = await client(b.url);
    expect(c.connected).toBe(true);
  });

  it("a connected client no longer counts against its address", async () => {
    const b = await broker({
      connections: { ...EMBEDDED_BROKER_DEFAULTS.connections, maxPendingPerAddress: 2 },
    });
    for (let i = 0; i < 4; i++) await client(b.url, { clientId: `ok-${i}` });
    expect(b.connectionRefusals()).toEqual({});
  });

  it("with connectRatePerAddress, closes new sockets from an address over its rate at accept", async () => {
    const b = await broker({
      connections: { ...EMBEDDED_BROKER_DEFAULTS.connections, connectRatePerAddress: 5 },
    }); // burst 10
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(b.port)));
    for (const s of sockets) cleanup.push(async () => s.destroy());
    const closed = await Promise.all(sockets.map((s) => closedWithin(s, 500)));
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(9);
    expect(b.connectionRefusals().connect_rate).toBe(closed.filter(Boolean).length);
    // Another address is not affected.
    const other = await openSocket(b.port, "127.0.0.1", "127.0.0.3");
    cleanup.push(async () => other.destroy());
    other.write(connectPacket({ clientId: "other" }));
    expect(await awaitConnack(other)).toBe(0);
  });

  it("refuses sockets beyond maxConnections", async () => {
    const b = await broker({ connections: { ...EMBEDDED_BROKER_DEFAULTS.connections, maxConnections: 3 } });
    await client(b.url, { clientId: "a" });
    await client(b.url, { clientId: "b" });
    await client(b.url, { clientId: "c" });
    const fourth = await openSocket(b.port);
    cleanup.push(async () => fourth.destroy());
    expect(await closedWithin(fourth, 2000)).toBe(true);
  });
});

describe("offline queues of persistent sessions", () => {
  it("queues at most maxMessages for a subscriber that left, counts the rest as dropped", async () => {
    const b = await broker({ queues: { ...EMBEDDED_BROKER_DEFAULTS.queues, maxMessages: 10 } });
    const viewer = await client(b.url, { clientId: "viewer-1", clean: false });
    await viewer.subscribeAsync("fleet/#", { qos: 1 });
    await viewer.endAsync();
    const pub = await client(b.url, { clientId: "node-pub" });
    for (let i = 0; i < 50; i++) await pub.publishAsync(`fleet/n/${i}`, `m${i}`, { qos: 1 });
    expect(b.queueDrops()).toEqual({ queue_full_messages: 40 });

    const back = mqtt.connect(b.url, { clientId: "viewer-1", clean: false, reconnectPeriod: 0 });
    cleanup.push(() => back.endAsync(true));
    const seen = collect(back);
    await until(() => seen.length >= 10, 10_000, "the queued messages");
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it("bounds queued bytes too, and frees room as messages are delivered", async () => {
    const b = await broker({
      queues: { ...EMBEDDED_BROKER_DEFAULTS.queues, maxMessages: 0, maxBytes: 10 * 1024 },
    });
    const viewer = await client(b.url, { clientId: "viewer-2", clean: false });
    await viewer.subscribeAsync("fleet/#", { qos: 1 });
    await viewer.endAsync();
    const pub = await client(b.url, { clientId: "node-pub-2" });
    for (let i = 0; i < 5; i++) await pub.publishAsync("fleet/x", Buffer.alloc(4 * 1024), { qos: 1 });
    expect(b.queueDrops()).toEqual({ queue_full_bytes: 3 });

    const back = mqtt.connect(b.url, { clientId: "viewer-2", clean: false, reconnectPeriod: 0 });
    cleanup.push(() => back.endAsync(true));
    const seen = collect(back);
    await until(() => seen.length === 2, 10_000, "two queued messages");
    await until(() => b.queued("viewer-2").messages === 0, 10_000, "the queue to empty after PUBACK");
  });
});

describe("retained messages", () => {
  it("keeps at most maxRetainedBytes of retained payload in all; past it a retained message is delivered, not kept", async () => {
    const b = await broker({ queues: { ...EMBEDDED_BROKER_DEFAULTS.queues, maxRetainedBytes: 10 * 1024 } });
    const live = await client(b.url, { clientId: "live" });
    await live.subscribeAsync("r/#", { qos: 1 });
    const liveSeen = collect(live);
    const pub = await client(b.url, { clientId: "retainer" });
    for (const topic of ["r/a", "r/b", "r/c"]) {
      await pub.publishAsync(topic, Buffer.alloc(4 * 1024, 1), { qos: 1, retain: true });
    }
    await until(() => liveSeen.length === 3, 10_000, "all three delivered live");
    expect(b.queueDrops()).toEqual({ retained_full: 1 });
    // Replacing a kept one and clearing another free room.
    await pub.publishAsync("r/a", Buffer.alloc(1024, 2), { qos: 1, retain: true });
    await pub.publishAsync("r/b", Buffer.alloc(0), { qos: 1, retain: true });
    await pub.publishAsync("r/c", Buffer.alloc(4 * 1024, 3), { qos: 1, retain: true });
    const late = mqtt.connect(b.url, { clientId: "late", reconnectPeriod: 0 });
    cleanup.push(() => late.endAsync(true));
    const lateSeen = collect(late);
    await new Promise((resolve) => late.once("connect", resolve));
    await late.subscribeAsync("r/#", { qos: 1 });
    await until(() => lateSeen.length === 2, 10_000, "two retained messages");
    expect(lateSeen.map((m) => m.topic).sort()).toEqual(["r/a", "r/c"]);
    expect(b.queueDrops()).toEqual({ retained_full: 1 });
  });
});
