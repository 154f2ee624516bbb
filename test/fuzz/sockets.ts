// Raw MQTT over loopback TCP for the fuzz test: a pipelining publisher (many PUBLISH packets per write,
// backpressure honoured, PINGREQ/PINGRESP as a barrier) and a runner for one mutated-packet session.
import { connect, type Socket } from "node:net";
import { generate, parser } from "mqtt-packet";
import type { RawSession } from "./packets.ts";
import type { FuzzMessage } from "./payloads.ts";

export interface RawPublisher {
  readonly clientId: string;
  /** Writes the messages as PUBLISH packets in one write; resolves once the socket can take more. */
  publish(messages: readonly Pick<FuzzMessage, "topic" | "payload" | "qos" | "retain">[]): Promise<void>;
  /** Resolves on the PINGRESP: the broker has read everything written before. */
  ping(timeoutMs?: number): Promise<void>;
  readonly closed: boolean;
  close(): Promise<void>;
}

export function connectPublisher(port: number, clientId: string, timeoutMs = 10_000): Promise<RawPublisher> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    const incoming = parser({ protocolVersion: 4 });
    const pings: (() => void)[] = [];
    let closed = false;
    let nextId = 1;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${clientId}: no CONNACK in ${timeoutMs} ms`));
    }, timeoutMs);
    const publisher: RawPublisher = {
      clientId,
      get closed() {
        return closed;
      },
      async publish(messages) {
        if (closed) throw new Error(`${clientId}: connection closed by the broker`);
        // Header and payload written separately under one cork: one writev, no copy of the payload.
        socket.cork();
        let ok = true;
        for (const m of messages) {
          if (m.qos > 0) nextId = (nextId % 65535) + 1;
          ok = socket.write(publishHeader(m.topic, m.payload.byteLength, m.qos, m.retain, nextId)) && ok;
          ok = socket.write(m.payload) && ok;
        }
        socket.uncork();
        if (!ok) await drained(socket);
      },
      ping(pingTimeoutMs = 30_000) {
        return new Promise<void>((ok, fail) => {
          if (closed) return fail(new Error(`${clientId}: connection closed by the broker`));
          const t = setTimeout(
            () => fail(new Error(`${clientId}: no PINGRESP in ${pingTimeoutMs} ms`)),
            pingTimeoutMs,
          );
          pings.push(() => {
            clearTimeout(t);
            ok();
          });
          socket.write(generate({ cmd: "pingreq" }));
        });
      },
      close() {
        return new Promise<void>((done) => {
          if (closed) return done();
          socket.once("close", () => done());
          socket.end(generate({ cmd: "disconnect" }));
        });
      },
    };
    incoming.on("packet", (packet) => {
      if (packet.cmd === "connack") {
        clearTimeout(timer);
        if (packet.returnCode === 0) resolve(publisher);
        else reject(new Error(`${clientId}: CONNACK ${packet.returnCode}`));
      } else if (packet.cmd === "pingresp") pings.shift()?.();
    });
    socket.on("data", (data) => incoming.parse(data));
    socket.on("error", () => undefined); // the close that follows is what counts
    socket.once("close", () => {
      closed = true;
      clearTimeout(timer);
      reject(new Error(`${clientId}: closed before CONNACK`));
    });
    socket.write(
      generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: true,
        clientId,
        keepalive: 0,
      }),
    );
  });
}

/** The fixed header, topic and message id of a PUBLISH (MQTT 3.1.1 §3.3); the payload follows it. */
export function publishHeader(
  topic: string,
  payloadBytes: number,
  qos: 0 | 1,
  retain: boolean,
  messageId: number,
) {
  const topicBytes = Buffer.byteLength(topic);
  let remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  const length: number[] = [];
  do {
    let digit = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) digit |= 0x80;
    length.push(digit);
  } while (remaining > 0);
  const header = Buffer.allocUnsafe(1 + length.length + 2 + topicBytes + (qos > 0 ? 2 : 0));
  let at = header.writeUInt8(0x30 | (qos << 1) | (retain ? 1 : 0), 0);
  for (const digit of length) at = header.writeUInt8(digit, at);
  at = header.writeUInt16BE(topicBytes, at);
  at += header.write(topic, at, "utf8");
  if (qos > 0) header.writeUInt16BE(messageId, at);
  return header;
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}

export interface RawOutcome {
  /** The broker closed the connection before we half-closed it. */
  closedByBroker: boolean;
  /** Still open `timeoutMs` after our half-close: destroyed by us (a partial packet the broker waits on). */
  timedOut: boolean;
  bytesIn: number;
}

/**
 * Writes one session's chunks, waits `graceMs`, half-closes, and waits for the broker to close the connection
 * (destroying it after `timeoutMs`).
 */
export function runRawSession(
  port: number,
  session: RawSession,
  graceMs = 30,
  timeoutMs = 2_000,
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let bytesIn = 0;
    let ended = false;
    let closedByBroker = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    socket.on("data", (data) => {
      bytesIn += data.length; // always read: a subscriber that does not read would stall the broker
    });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      if (!ended) closedByBroker = true;
      clearTimeout(timer);
      resolve({ closedByBroker, timedOut, bytesIn });
    });
    socket.once("connect", async () => {
      for (const chunk of session.chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        await new Promise((r) => setImmediate(r));
      }
      // Give the broker a moment to answer (or hang up) before our FIN, so it parses the packets on a live
      // connection rather than one already closing.
      await new Promise((r) => setTimeout(r, graceMs));
      if (socket.destroyed) return;
      ended = true;
      socket.end();
      timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, timeoutMs);
    });
  });
}
