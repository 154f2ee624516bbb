import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMessage, decode } from "../proto/codec.ts";
import { PeerState } from "../proto/gen/k3sfleet/v1/fleet_pb.js";
import { topicsFor } from "../proto/topics.ts";
import { AGENT_DEFAULTS } from "../test/support/defaults.ts";
import { until } from "../test/support/until.ts";
import { contractPublish, Link, withTimeout } from "./link.ts";

/** The schema's broker.keepalive, as the product passes it. */
const KEEPALIVE_S = AGENT_DEFAULTS.keepaliveSeconds;

const logger = pino({ level: "silent" });
const topics = topicsFor();

let broker: Aedes;
let server: Server;
let url: string;

beforeEach(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  url = `mqtt://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
});

const statusWill = (session: number) =>
  contractPublish(
    "nodeStatus",
    topics.nodeStatus("n1"),
    createMessage("nodeStatus", { state: PeerState.OFFLINE, session: BigInt(session) }),
  );

async function watcher(filter: string) {
  const client = await mqtt.connectAsync(url, { clientId: `watch-${Math.random()}` });
  const seen: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  client.on("message", (topic, payload, packet) => seen.push({ topic, payload, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, seen };
}

describe("Link", () => {
  it("publishes with the contract's QoS and retain flag", async () => {
    const link = new Link({ keepaliveSeconds: KEEPALIVE_S, url, clientId: "n1", logger });
    await link.start();
    await link.publish(
      "nodeStatus",
      topics.nodeStatus("n1"),
      createMessage("nodeStatus", { state: PeerState.ONLINE }),
    );
    const { client, seen } = await watcher(topics.nodeStatus("n1"));
    await until(() => seen.length > 0);
    expect(seen[0]?.retain).toBe(true); // arrived as a retained message to a late subscriber
    const decoded = decode("nodeStatus", seen[0]?.payload ?? new Uint8Array());
    expect(decoded.ok && decoded.message.state).toBe(PeerState.ONLINE);
    await link.close();
    await client.endAsync();
  });

  it("has the broker deliver its Will when the connection dies without DISCONNECT", async () => {
    const { client, seen } = await watcher(topics.nodeStatus("n1"));
    const link = new Link({
      keepaliveSeconds: KEEPALIVE_S,
      url,
      clientId: "n1",
      logger,
      will: () => statusWill(9),
    });
    await link.start();
    link.destroy();
    await until(() => seen.length > 0);
    const decoded = decode("nodeStatus", seen[0]?.payload ?? new Uint8Array());
    expect(decoded.ok && decoded.message).toMatchObject({ state: PeerState.OFFLINE, session: 9n });
    await client.endAsync();
  });

  it("reconnects after the broker drops it, with a fresh Will for the new attempt", async () => {
    let session = 0;
    const link = new Link({
      keepaliveSeconds: KEEPALIVE_S,
      url,
      clientId: "n1",
      logger,
      will: () => statusWill(++session),
      backoff: { initialMs: 50, maxMs: 100 },
    });
    let connects = 0;
    link.on("connect", () => connects++);
    await link.start();
    expect(connects).toBe(1);
    // The broker side closes the client's socket, as a broker restart or network cut would.
    const { client, seen } = await watcher(topics.nodeStatus("n1"));
    // aedes keeps connected clients in `clients`, which its typings do not declare.
    const clients = (broker as unknown as { clients: Record<string, { id: string; close(): void }> }).clients;
    for (const c of Object.values(clients)) if (c.id === "n1") c.close();
    await until(() => connects === 2);
    expect(session).toBe(2);
    link.destroy();
    // The broker's close of the first connection fired that connection's Will (session 1); the Will of the
    // second connection must carry the session chosen for it.
    const sessions = () =>
      seen.map((m) => decode("nodeStatus", m.payload)).flatMap((d) => (d.ok ? [d.message.session] : []));
    await until(() => sessions().includes(2n));
    expect(sessions().at(-1)).toBe(2n);
    await client.endAsync();
  });

  it("keeps delivering to other handlers when one throws", async () => {
    const link = new Link({ keepaliveSeconds: KEEPALIVE_S, url, clientId: "sub", logger });
    await link.start();
    await link.subscribe([topics.report]);
    const got: string[] = [];
    link.onMessage(() => {
      throw new Error("bad handler");
    });
    link.onMessage((topic) => got.push(topic));
    const pub = await mqtt.connectAsync(url);
    await pub.publishAsync(topics.report, "x", { qos: 1 });
    await pub.publishAsync(topics.report, "y", { qos: 1 });
    await until(() => got.length === 2);
    await pub.endAsync();
    await link.close();
  });
});

describe("Link reconnect backoff", () => {
  it("backs off, never spins, when two clients with one client id keep taking the connection over", async () => {
    const delays: number[] = [];
    const capture = pino(
      { level: "warn" },
      {
        write(line: string) {
          const entry = JSON.parse(line) as { delayMs?: number };
          if (entry.delayMs !== undefined) delays.push(entry.delayMs);
        },
      },
    );
    const options = { url, clientId: "same", backoff: { initialMs: 40, maxMs: 5_000, jitter: 0 } };
    const a = new Link({ keepaliveSeconds: KEEPALIVE_S, ...options, logger: capture });
    const b = new Link({ keepaliveSeconds: KEEPALIVE_S, ...options, logger: pino({ level: "silent" }) });
    await a.start();
    await b.start(); // the broker drops a's connection for b's
    await until(() => delays.length >= 4, 10_000);
    // Each of a's connections was taken over at once: the delay doubles instead of starting again at 40 ms.
    expect(delays.slice(0, 4)).toEqual([40, 80, 160, 320]);
    a.destroy();
    b.destroy();
  });

  it("starts again from the first step after a connection that lasted", async () => {
    let clock = 0;
    const delays: number[] = [];
    const capture = pino(
      { level: "warn" },
      {
        write(line: string) {
          const entry = JSON.parse(line) as { delayMs?: number };
          if (entry.delayMs !== undefined) delays.push(entry.delayMs);
        },
      },
    );
    const link = new Link({
      keepaliveSeconds: KEEPALIVE_S,
      url,
      clientId: "n1",
      logger: capture,
      backoff: { initialMs: 40, maxMs: 5_000, jitter: 0 },
      stableMs: 1_000,
      monotonic: () => clock,
    });
    let connects = 0;
    link.on("connect", () => connects++);
    await link.start();
    const clients = (broker as unknown as { clients: Record<string, { id: string; close(): void }> }).clients;
    const kick = () => {
      for (const c of Object.values(clients)) if (c.id === "n1") c.close();
    };
    kick(); // lasted 0 ms
    await until(() => connects === 2);
    kick(); // lasted 0 ms again: the backoff grows
    await until(() => connects === 3);
    clock += 1_000; // this one lasted
    kick();
    await until(() => connects === 4);
    expect(delays).toEqual([40, 80, 40]);
    link.destroy();
  });
});

describe("Link close against a broker that never acknowledges", () => {
  it("ends within its timeout instead of waiting for PUBACKs that never come", async () => {
    // Speaks just enough MQTT: CONNACK for a CONNECT, then silence (no PUBACK, no PINGRESP).
    const mute = createServer((socket) => {
      socket.on("data", (data) => {
        if (data[0] === 0x10) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      });
      socket.on("error", () => undefined);
    });
    mute.listen(0, "127.0.0.1");
    await once(mute, "listening");
    const address = mute.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const link = new Link({
      keepaliveSeconds: KEEPALIVE_S,
      url: `mqtt://127.0.0.1:${port}`,
      clientId: "mute-test",
      logger,
    });
    try {
      await link.start();
      // A QoS 1 publish that will never be acknowledged, then a final status on close.
      const pending = link.publish(
        "coordinatorStatus",
        topics.coordinatorStatus,
        createMessage("coordinatorStatus", {}),
      );
      pending.catch(() => undefined);
      await expect(withTimeout(pending, 200, "no PUBACK")).rejects.toThrow(/no PUBACK/);
      const started = performance.now();
      await link.close(
        contractPublish(
          "coordinatorStatus",
          topics.coordinatorStatus,
          createMessage("coordinatorStatus", {}),
        ),
        300,
      );
      // Two waits of 300 ms at most (final status, clean end), then the forced end.
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      mute.close();
    }
  });
});
