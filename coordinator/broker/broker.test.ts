import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { BrokerError, type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";

const logger = pino({ level: "silent" });
const cleanup: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function broker(
  options: Partial<Parameters<typeof startEmbeddedBroker>[0]> = {},
): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger, ...options });
  cleanup.push(() => b.close());
  return b;
}

async function client(url: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
  cleanup.push(() => c.endAsync(true));
  return c;
}

function nextMessage(
  c: MqttClient,
  timeoutMs = 2000,
): Promise<{ topic: string; payload: Buffer; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message")), timeoutMs);
    c.once("message", (topic, payload, packet) => {
      clearTimeout(timer);
      resolve({ topic, payload, retain: packet.retain });
    });
  });
}

describe("startEmbeddedBroker", () => {
  it("listens on a free port when given 0 and relays retained messages to late subscribers", async () => {
    const b = await broker();
    expect(b.port).toBeGreaterThan(0);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    const publisher = await client(b.url);
    await publisher.publishAsync("t/retained", "hello", { qos: 1, retain: true });
    const late = await client(b.url);
    const message = nextMessage(late);
    await late.subscribeAsync("t/#", { qos: 1 });
    expect(await message).toMatchObject({ topic: "t/retained", retain: true });
  });

  it("close() disconnects clients and frees the port", async () => {
    const b = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
    const c = await client(b.url);
    const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
    // A raw socket that never sends CONNECT must not keep the server open either.
    const raw = createConnection(b.port, "127.0.0.1");
    await new Promise((resolve) => raw.once("connect", resolve));
    await b.close();
    await b.close(); // idempotent
    await closed;
    expect(b.aedes.closed).toBe(true);
    await expect(mqtt.connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 1000 })).rejects.toThrow();
    raw.destroy();
  });

  it("fails with a coded error when the port is taken", async () => {
    const first = await broker();
    const error = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: first.port, logger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "K3SF_ERR_BROKER_LISTEN" });
    expect((error as BrokerError).cause).toMatchObject({ code: "EADDRINUSE" });
  });

  it("maxPayloadBytes: an oversized publish is not delivered and its sender is disconnected", async () => {
    const b = await broker({ maxPayloadBytes: 100 });
    const subscriber = await client(b.url);
    await subscriber.subscribeAsync("t/#", { qos: 1 });
    const received: string[] = [];
    subscriber.on("message", (topic) => received.push(topic));
    const sender = await client(b.url);
    const senderClosed = new Promise<void>((resolve) => sender.once("close", () => resolve()));
    sender.publish("t/big", Buffer.alloc(101), { qos: 0 });
    await senderClosed;
    const ok = await client(b.url);
    await ok.publishAsync("t/small", Buffer.alloc(100), { qos: 1 });
    await expect.poll(() => received).toEqual(["t/small"]);
    // The default guard on $SYS stays in place with the payload cap.
    const sys = await client(b.url);
    const sysClosed = new Promise<void>((resolve) => sys.once("close", () => resolve()));
    sys.publish("$SYS/x", "y");
    await sysClosed;
  });

  it("passes the authenticate and authorizePublish hooks to aedes", async () => {
    const b = await broker({
      authenticate: (_client, username, password, done) =>
        done(null, username === "agent" && password?.toString() === "s3cret"),
      authorizePublish: (_client, packet, done) =>
        done(packet.topic.startsWith("allowed/") ? null : new Error("not allowed")),
    });
    await expect(
      mqtt.connectAsync(b.url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        username: "agent",
        password: "wrong",
      }),
    ).rejects.toThrow(/Not authorized|Bad username/i);
    const c = await client(b.url, { username: "agent", password: "s3cret" });
    await c.subscribeAsync("#", { qos: 1 });
    const message = nextMessage(c);
    await c.publishAsync("allowed/x", "1", { qos: 1 });
    expect((await message).topic).toBe("allowed/x");
  });
});

const haveSs = spawnSync("ss", ["-V"]).status === 0;

describe.skipIf(!haveSs)("a client with MQTT keepalive 0", () => {
  it("is on a socket with TCP keepalive, so one that vanishes is found (ss shows the keepalive timer)", async () => {
    const b = await broker();
    const c = await client(b.url, { keepalive: 0 });
    const local = (c.stream as unknown as { localPort: number }).localPort;
    // The broker's end of this connection: source port = the broker's, destination = the client's.
    const out = spawnSync(
      "ss",
      ["-tnoH", "state", "established", `( sport = :${b.port} and dport = :${local} )`],
      {
        encoding: "utf8",
      },
    ).stdout;
    expect(out).toMatch(/timer:\(keepalive,/);
  });
});
