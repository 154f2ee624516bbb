import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import mqtt from "mqtt";
import { type Packet, parser } from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { startAedes, type TestBroker } from "../test/support/simulator.ts";
import { until } from "../test/support/until.ts";
import { Connection, type ConnectOptions, parseBrokerUrl, type WireHandler } from "./wire.ts";

interface Events {
  connected: number;
  acked: number[];
  closed: (Error | undefined)[];
}

function recorder(): { handler: WireHandler<string>; events: Events } {
  const events: Events = { connected: 0, acked: [], closed: [] };
  return {
    events,
    handler: {
      connected: () => {
        events.connected += 1;
      },
      acked: (_conn, id) => {
        events.acked.push(id);
      },
      closed: (_conn, error) => {
        events.closed.push(error);
      },
    },
  };
}

const hostPort = (url: string) => parseBrokerUrl(url) as { host: string; port: number };
const options = (url: string, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  ...hostPort(url),
  clientId: "wire-n1",
  keepaliveSeconds: 30,
  connectTimeoutMs: 2_000,
  ...extra,
});
const publish = (topic: string, qos: 0 | 1 = 1) => ({
  topic,
  payload: Uint8Array.from([1, 2, 3]),
  qos,
  retain: false,
});

/** A fake broker on a raw socket: tests decide byte by byte what it answers. */
async function rawBroker(onPacket: (socket: Socket, packet: Packet) => void) {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    const p = parser({ protocolVersion: 4 });
    p.on("packet", (packet) => onPacket(socket, packet));
    socket.on("data", (d) => p.parse(d));
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const puback = (id: number) => Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe("parseBrokerUrl", () => {
  it.each([
    { url: "mqtt://127.0.0.1:1884", expected: { host: "127.0.0.1", port: 1884 } },
    { url: "tcp://broker", expected: { host: "broker", port: 1883 } },
    { url: "mqtt://[::1]:1883", expected: { host: "::1", port: 1883 } },
  ])("$url → $expected", ({ url, expected }) => {
    expect(parseBrokerUrl(url)).toEqual(expected);
  });

  it.each(["mqtts://x", "ws://x", "not a url"])("refuses %s", (url) => {
    expect(parseBrokerUrl(url)).toHaveProperty("problem");
  });
});

describe("Connection against aedes", () => {
  let broker: TestBroker;
  const start = async () => {
    broker = await startAedes();
    cleanup.push(() => broker.close());
  };

  it("connects with its own client id, tracks QoS 1 publishes until their PUBACK, and its kill() fires the Will", async () => {
    await start();
    const clientIds: string[] = [];
    broker.broker.on("client", (client) => clientIds.push(client.id));
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    cleanup.push(() => watcher.endAsync());
    const wills: Buffer[] = [];
    watcher.on("message", (_topic, payload) => wills.push(payload));
    await watcher.subscribeAsync("will/#", { qos: 1 });

    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(
      options(broker.url, {
        will: { topic: "will/n1", payload: Uint8Array.from([9, 9]), qos: 1, retain: true },
      }),
      0,
    );
    expect(conn.state).toBe("connecting");
    await until(() => events.connected === 1, 5_000, "CONNACK");
    expect(conn.state).toBe("connected");
    expect(clientIds).toContain("wire-n1");

    const ids = [
      conn.publish(publish("data/a"), 1),
      conn.publish(publish("data/b"), 2),
      conn.publish(publish("data/c", 0), 3),
    ];
    expect(ids).toEqual([1, 2, 0]);
    expect(conn.inflight).toBe(2);
    await until(() => events.acked.length === 2, 5_000, "two PUBACKs");
    expect(events.acked).toEqual([1, 2]);
    expect(conn.inflight).toBe(0);

    conn.kill();
    await until(() => wills.length === 1, 5_000, "the Will");
    expect([...(wills[0] ?? [])]).toEqual([9, 9]);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.closed[0]).toBeUndefined();
    expect(conn.state).toBe("idle");
  });

  it("says goodbye with DISCONNECT: the broker drops the Will", async () => {
    await start();
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    cleanup.push(() => watcher.endAsync());
    const wills: Buffer[] = [];
    watcher.on("message", (_topic, payload) => wills.push(payload));
    await watcher.subscribeAsync("will/#", { qos: 1 });

    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(
      options(broker.url, {
        will: { topic: "will/n1", payload: Uint8Array.from([1]), qos: 1, retain: false },
      }),
      0,
    );
    await until(() => events.connected === 1, 5_000, "CONNACK");
    conn.disconnect();
    await until(() => events.closed.length === 1, 5_000, "close");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wills).toEqual([]);
    expect(events.closed[0]).toBeUndefined();
  });

  it("turns a refusing CONNACK into a coded error", async () => {
    broker = await startAedes({
      authenticate: (_client, _user, _password, done) =>
        done(Object.assign(new Error("no"), { returnCode: 5 as never }), false),
    });
    cleanup.push(() => broker.close());
    const { handler, events } = recorder();
    new Connection("n1", handler).connect(options(broker.url), 0);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.connected).toBe(0);
    expect(events.closed[0]).toMatchObject({
      code: "K3SF_ERR_SIM_REFUSED",
      message: expect.stringContaining("not authorized"),
    });
  });

  it("pings when idle for most of the keepalive, and the broker answers", async () => {
    await start();
    let pings = 0;
    broker.broker.on("ping", () => {
      pings += 1;
    });
    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(options(broker.url, { keepaliveSeconds: 2 }), 0);
    await until(() => events.connected === 1, 5_000, "CONNACK");
    conn.service(1_000); // idle 1 s of 2: not yet
    expect(pings).toBe(0);
    conn.service(1_600);
    await until(() => pings === 1, 5_000, "PINGREQ at the broker");
    await new Promise((resolve) => setTimeout(resolve, 100)); // PINGRESP comes back
    conn.service(3_700); // a second ping is due; the first was answered, so no timeout
    await until(() => pings === 2, 5_000, "second PINGREQ");
    expect(events.closed).toEqual([]);
    conn.disconnect();
    await until(() => events.closed.length === 1, 5_000, "close");
  });

  it("reports a refused TCP connection", async () => {
    const gone = await rawBroker(() => {});
    await gone.close();
    const { handler, events } = recorder();
    new Connection("n1", handler).connect(options(gone.url), 0);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.closed[0]).toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("Connection against a raw fake broker", () => {
  it("parses packets split across reads and several packets in one read", async () => {
    const fake = await rawBroker((socket, packet) => {
      if (packet.cmd === "connect") {
        socket.write(CONNACK_OK.subarray(0, 1));
        setTimeout(() => socket.write(CONNACK_OK.subarray(1)), 30);
      }
      if (packet.cmd === "publish" && packet.messageId === 3) {
        const three = Buffer.concat([puback(1), puback(2), puback(3)]);
        socket.write(three.subarray(0, 6)); // PUBACK 1 and half of 2
        setTimeout(() => socket.write(three.subarray(6)), 30);
      }
    });
    cleanup.push(() => fake.close());
    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(options(fake.url), 0);
    await until(() => events.connected === 1, 5_000, "CONNACK in two reads");
    for (let i = 0; i < 3; i++) conn.publish(publish("x"), i);
    await until(() => events.acked.length === 3, 5_000, "three PUBACKs");
    expect(events.acked).toEqual([1, 2, 3]);
    conn.kill();
    await until(() => events.closed.length === 1, 5_000, "close");
  });

  it("gives up on a broker that never sends CONNACK", async () => {
    const fake = await rawBroker(() => {});
    cleanup.push(() => fake.close());
    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(options(fake.url, { connectTimeoutMs: 500 }), 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    conn.service(400);
    expect(conn.state).toBe("connecting");
    conn.service(501);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.closed[0]).toMatchObject({ code: "K3SF_ERR_SIM_CONNECT_TIMEOUT" });
  });

  it("drops a connection whose broker stops answering pings", async () => {
    const fake = await rawBroker((socket, packet) => {
      if (packet.cmd === "connect") socket.write(CONNACK_OK);
    });
    cleanup.push(() => fake.close());
    const { handler, events } = recorder();
    const conn = new Connection("n1", handler);
    conn.connect(options(fake.url, { keepaliveSeconds: 1 }), 0);
    await until(() => events.connected === 1, 5_000, "CONNACK");
    conn.service(800); // PINGREQ, never answered
    conn.service(1_700);
    expect(conn.state).toBe("connected");
    conn.service(1_801);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.closed[0]).toMatchObject({ code: "K3SF_ERR_SIM_PING_TIMEOUT" });
  });

  it("treats a malformed length from the broker as a protocol error", async () => {
    const fake = await rawBroker((socket, packet) => {
      if (packet.cmd === "connect") socket.write(Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0x01]));
    });
    cleanup.push(() => fake.close());
    const { handler, events } = recorder();
    new Connection("n1", handler).connect(options(fake.url), 0);
    await until(() => events.closed.length === 1, 5_000, "close");
    expect(events.closed[0]).toMatchObject({ code: "K3SF_ERR_SIM_PROTOCOL" });
  });
});
