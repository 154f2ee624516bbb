// Broker limits on a real aedes over loopback TCP: what a refused publish costs in each refusedPublish mode,
// the rate limit against an injected clock, Wills and exempt clients, SUBACK for long filters, throttled
// logs, and the composition with auth in startSecuredBroker (auth still runs for what the limits let through).
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { encode, topicsFor } from "../../proto/index.ts";
import { type Cleanup, closed, collect, granted, mqttClient, usersFile } from "../../test/support/auth.ts";
import { BROKER_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { status, telemetry } from "../../test/support/fleet-messages.ts";
import type { NewLengthFigures, NewLengthMode } from "../../test/support/limits-hooks-child.ts";
import { until } from "../../test/support/until.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";
import { startSecuredBroker } from "./embedded.ts";
import { type BrokerLimitsOptions, createBrokerLimits, LimitError } from "./limits-hooks.ts";

const ROOT = "k3s-fleet/v1";
const t = topicsFor(ROOT);
const silent = pino({ level: "silent" });
const cleanup: Cleanup = [];
const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, "../../test/support/limits-hooks-child.ts");

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function limitedBroker(options: Partial<BrokerLimitsOptions> = {}) {
  const limits = createBrokerLimits({
    newNodes: BROKER_DEFAULTS.newNodes,
    refusedPublish: "disconnect",
    topicRoot: ROOT,
    logger: silent,
    ...options,
  });
  const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger: silent, limits });
  cleanup.push(() => broker.close());
  return { broker, limits };
}

async function subscriber(broker: EmbeddedBroker, filter = `${ROOT}/#`) {
  const c = await mqttClient(broker.url, {}, cleanup);
  await c.subscribeAsync(filter, { qos: 1 });
  return { client: c, seen: collect(c) };
}

/** Publishes a marker and waits for it: everything the sender published before it has been routed. */
async function flush(sender: MqttClient, seen: { topic: string }[]) {
  const marker = `${ROOT}/node/marker-${seen.length}/status`;
  await sender.publishAsync(marker, Buffer.from(encode("nodeStatus", status("online", 1))), { qos: 1 });
  await until(() => seen.some((m) => m.topic === marker), 3000, "the marker");
}

describe("createBrokerLimits on aedes", () => {
  it("drop: an oversized telemetry payload is acknowledged, delivered to nobody, counted; the client stays", async () => {
    const { broker, limits } = await limitedBroker({ refusedPublish: "drop" });
    const { seen } = await subscriber(broker);
    const sender = await mqttClient(broker.url, {}, cleanup);
    await sender.publishAsync(t.telemetry("a"), Buffer.alloc(4097), { qos: 1 }); // PUBACK comes
    await sender.publishAsync(t.telemetry("a"), Buffer.alloc(4096), { qos: 1 });
    await flush(sender, seen);
    expect(seen.filter((m) => m.topic === t.telemetry("a")).map((m) => m.payload.length)).toEqual([4096]);
    expect(sender.connected).toBe(true);
    expect(limits.limitRefusals()).toEqual({ payload_too_large: 1 });
  });

  it("disconnect: the same publish closes the connection and is not delivered", async () => {
    const { broker, limits } = await limitedBroker({ refusedPublish: "disconnect" });
    const { seen } = await subscriber(broker);
    const sender = await mqttClient(broker.url, {}, cleanup);
    sender.publish(t.nodeStatus("a"), Buffer.alloc(1025), { qos: 0 });
    await closed(sender);
    const other = await mqttClient(broker.url, {}, cleanup);
    await flush(other, seen);
    expect(seen.some((m) => m.topic === t.nodeStatus("a"))).toBe(false);
    expect(limits.limitRefusals()).toEqual({ payload_too_large: 1 });
  });

  it("refuses over-long topics and filters (SUBACK 0x80 for that filter only)", async () => {
    const { broker, limits } = await limitedBroker({ refusedPublish: "drop" });
    const { seen } = await subscriber(broker, "#");
    const sender = await mqttClient(broker.url, {}, cleanup);
    const long = `${ROOT}/node/${"n".repeat(600)}/telemetry`;
    await sender.publishAsync(long, Buffer.from("x"), { qos: 1 });
    await flush(sender, seen);
    expect(seen.some((m) => m.topic === long)).toBe(false);
    expect(await granted(sender, [`${"a".repeat(600)}/#`, `${ROOT}/node/+/+`])).toEqual([128, 1]);
    expect(limits.limitRefusals()).toEqual({ topic_too_long: 1, filter_too_long: 1 });
  });

  it("rate: a burst, then maxPublishRate per second on the injected clock; exempt clients are not limited", async () => {
    let clock = 0;
    const { broker, limits } = await limitedBroker({
      refusedPublish: "drop",
      settings: { maxPublishRate: 2, publishBurst: 5 },
      now: () => clock,
      rateExempt: (client) => client.id === "exempt",
    });
    const { seen } = await subscriber(broker);
    const marker = await mqttClient(broker.url, { clientId: "exempt" }, cleanup);
    const sender = await mqttClient(broker.url, { clientId: "flooder" }, cleanup);
    const topic = t.telemetry("flood");
    const send = (n: number) =>
      Promise.all(Array.from({ length: n }, () => sender.publishAsync(topic, Buffer.from("x"), { qos: 1 })));
    await send(8);
    await flush(marker, seen);
    expect(seen.filter((m) => m.topic === topic)).toHaveLength(5);
    clock += 1000; // two more tokens
    await send(3);
    await flush(marker, seen);
    expect(seen.filter((m) => m.topic === topic)).toHaveLength(7);
    // The exempt client sent its markers and more without refusals.
    await Promise.all(
      Array.from({ length: 20 }, () => marker.publishAsync(topic, Buffer.from("y"), { qos: 0 })),
    );
    await flush(marker, seen);
    expect(seen.filter((m) => m.topic === topic)).toHaveLength(27);
    expect(limits.limitRefusals()).toEqual({ rate_limited: 4 });
    expect(sender.connected).toBe(true);
  });

  it("a Will is never rate limited: a client that spent its bucket still goes offline", async () => {
    const clock = 0;
    const { broker, limits } = await limitedBroker({
      refusedPublish: "drop",
      settings: { maxPublishRate: 1, publishBurst: 1 },
      now: () => clock,
    });
    const { seen } = await subscriber(broker);
    const will = {
      topic: t.nodeStatus("w"),
      payload: Buffer.from(encode("nodeStatus", status("offline", 1))),
    };
    const sender = await mqttClient(broker.url, { will: { ...will, qos: 1, retain: false } }, cleanup);
    await sender.publishAsync(t.telemetry("w"), Buffer.from("1"), { qos: 1 });
    await sender.publishAsync(t.telemetry("w"), Buffer.from("2"), { qos: 1 });
    sender.stream.destroy(); // no DISCONNECT: the Will fires
    await until(() => seen.some((m) => m.topic === will.topic), 3000, "the Will");
    expect(limits.limitRefusals()).toEqual({ rate_limited: 1 });
  });

  it("logs one line per client and reason per interval, with the count held back", async () => {
    const lines: { reason?: string; suppressed?: number; clientId?: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let clock = 0;
    const { broker } = await limitedBroker({
      refusedPublish: "drop",
      logger,
      now: () => clock,
      logIntervalMs: 1000,
    });
    const { seen } = await subscriber(broker);
    const sender = await mqttClient(broker.url, { clientId: "noisy" }, cleanup);
    for (let i = 0; i < 30; i++) sender.publish(t.nodeStatus("n"), Buffer.alloc(2000), { qos: 0 });
    await flush(sender, seen);
    clock += 1000;
    sender.publish(t.nodeStatus("n"), Buffer.alloc(2000), { qos: 0 });
    await flush(sender, seen);
    expect(lines.map(({ clientId, reason, suppressed }) => ({ clientId, reason, suppressed }))).toEqual([
      { clientId: "noisy", reason: "payload_too_large", suppressed: 0 },
      { clientId: "noisy", reason: "payload_too_large", suppressed: 29 },
    ]);
  });

  it("refuses settings that would refuse contract traffic, with a coded error", () => {
    expect(() =>
      createBrokerLimits({
        newNodes: BROKER_DEFAULTS.newNodes,
        refusedPublish: "disconnect",
        topicRoot: ROOT,
        logger: silent,
        settings: { maxTopicLength: 100 },
      }),
    ).toThrow(LimitError);
  });
});

describe("startSecuredBroker with limits and auth", () => {
  async function secured(limits = {}) {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-limits-"));
    const file = join(dir, "users.yaml");
    await usersFile(file, [{ username: "edge-a", role: "node", password: "pw-a" }]);
    const s = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1 << 20,
      topicRoot: ROOT,
      usersFile: file,
      refusedPublish: "drop",
      localClients: [{ name: "coordinator", role: "coordinator" }],
      limits,
      logger: silent,
    });
    cleanup.push(() => s.broker.close());
    const coordinator = await mqttClient(
      s.broker.url,
      { clientId: "k3s-fleet-coordinator", ...s.credentials.get("coordinator") },
      cleanup,
    );
    await coordinator.subscribeAsync(`${ROOT}/node/+/+`, { qos: 1 });
    return { s, coordinator, seen: collect(coordinator) };
  }

  it("limits run first, auth still runs for what they let through; the coordinator is rate exempt", async () => {
    const { s, coordinator, seen } = await secured({ maxPublishRate: 1, publishBurst: 3 });
    const edge = await mqttClient(
      s.broker.url,
      { clientId: "k3s-fleet-agent-edge-a", username: "edge-a", password: "pw-a" },
      cleanup,
    );
    const ok = Buffer.from(encode("telemetry", telemetry({ session: 1, seq: 1 })));
    await edge.publishAsync(t.telemetry("edge-a"), ok, { qos: 1 }); // allowed by both
    await edge.publishAsync(t.telemetry("edge-a"), Buffer.alloc(5000), { qos: 1 }); // limits: too large
    await edge.publishAsync(t.telemetry("edge-b"), ok, { qos: 1 }); // auth: not its node
    await edge.publishAsync(t.telemetry("edge-a"), ok, { qos: 1 }); // limits: bucket empty
    // The coordinator publishes its reports well over the rate: never limited (nor authorised to node topics).
    const report = t.report;
    for (let i = 0; i < 10; i++) await coordinator.publishAsync(report, Buffer.alloc(100_000), { qos: 1 });
    await until(() => seen.filter((m) => m.topic === t.telemetry("edge-a")).length === 1, 3000, "telemetry");
    expect(edge.connected).toBe(true);
    expect(s.limitRefusals()).toEqual({ payload_too_large: 1, rate_limited: 1 });
    expect(s.refusals()).toEqual({ publish_denied: 1 });
  });

  it("refuses invalid limit settings before listening", async () => {
    await expect(secured({ maxTopicLength: 10 })).rejects.toMatchObject({ code: "K3SF_ERR_LIMIT_SETTINGS" });
  });
});

describe("prewarmLengthCache", () => {
  // Process-wide ArrayBuffer memory, so measured in a child process of its own (test/support/limits-hooks-child.ts);
  // `bare` is the same broker without limits, hence without the prewarm: the measurement must see the slabs.
  async function newLengths(mode: NewLengthMode): Promise<NewLengthFigures> {
    const { stdout } = await run(
      process.execPath,
      ["--expose-gc", "--no-concurrent-array-buffer-sweeping", FIXTURE, mode],
      { timeout: 20_000 },
    );
    return JSON.parse(stdout) as NewLengthFigures;
  }

  it("packets of many new lengths no longer pin a Buffer pool slab each", async () => {
    const [bare, limited] = await Promise.all([newLengths("bare"), newLengths("limits")]);
    // Unwarmed, each new length keeps its 64 KiB slab alive: 500 × 64 KiB ≈ 31 MiB (measured: 31.2 MiB).
    // Warmed, the slabs are collected (measured: 64 KiB, the pool's current slab).
    const oneSlabPerLength = bare.lengths * bare.slabBytes;
    expect(bare.growthBytes).toBeGreaterThan(oneSlabPerLength / 2);
    expect(limited.growthBytes).toBeLessThan(oneSlabPerLength / 16);
  });
});
