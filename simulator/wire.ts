// A minimal MQTT 3.1.1 client for one virtual node, on `node:net` and `mqtt-packet`, light enough for ten
// thousand in one process: CONNECT with a Will and keepalive, PUBLISH at QoS 0/1 with packet ids and
// in-flight tracking, PINGREQ when idle, DISCONNECT, or an abrupt kill that makes the broker send the Will.
//
// What keeps it small: no EventEmitter, no stream or timer per connection. Every socket reads into ONE shared
// buffer (`onread`), cuts the bytes into whole packets itself (frame.ts) and hands them to ONE shared
// mqtt-packet parser; only a packet split across reads is copied out, into that connection's `pending`.
// Timers belong to the caller, which calls `service(now)` on its own schedule; events go to one handler
// object shared by every connection. Reconnecting is the caller's decision too (see fleet-sim.ts).
import { connect as netConnect, type Socket } from "node:net";
import { generate, type Packet, parser } from "mqtt-packet";
import { SimulatorError } from "./errors.ts";
import { packetSize } from "./frame.ts";

export interface OutgoingPublish {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1;
  retain: boolean;
}

export interface ConnectOptions {
  host: string;
  port: number;
  clientId: string;
  keepaliveSeconds: number;
  /** No CONNACK within this long fails the attempt. */
  connectTimeoutMs: number;
  will?: OutgoingPublish;
  username?: string;
  password?: string;
}

/** What every connection reports, to one handler shared by all of them. */
export interface WireHandler<T> {
  /** The broker accepted the connection (CONNACK 0). */
  connected(conn: Connection<T>): void;
  /** PUBACK for a QoS 1 publish sent at `sentAtMs` (the caller's clock). */
  acked(conn: Connection<T>, packetId: number, sentAtMs: number): void;
  /** The socket closed: `error` says why, undefined after `disconnect()` or `kill()`. */
  closed(conn: Connection<T>, error: Error | undefined): void;
}

export type ConnectionState = "idle" | "connecting" | "connected" | "closing";

const READ_BUFFER_BYTES = 64 * 1024;
/** A broker only sends this client acks and pings; anything bigger than this is not for us. */
const MAX_PENDING_BYTES = 64 * 1024;
const MAX_PACKET_ID = 0xffff;
const PINGREQ = generate({ cmd: "pingreq" });
const DISCONNECT = generate({ cmd: "disconnect" });
// biome-ignore format: a table of CONNACK return codes
const REFUSALS: Record<number, string> = {
  1: "unacceptable protocol version", 2: "identifier rejected", 3: "server unavailable",
  4: "bad user name or password", 5: "not authorized",
};

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Host and port of an `mqtt://` or `tcp://` URL, or the reason it is not one this client can use. */
export function parseBrokerUrl(url: string): { host: string; port: number } | { problem: string } {
  if (!URL.canParse(url)) return { problem: `broker URL "${url}" is not a URL` };
  const parsed = new URL(url);
  if (parsed.protocol !== "mqtt:" && parsed.protocol !== "tcp:") {
    return { problem: `broker URL "${url}": the simulator speaks plain mqtt:// (or tcp://) only` };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: parsed.port === "" ? 1883 : Number(parsed.port) };
}

export class Connection<T> {
  /** Whatever the caller ties to this connection (its virtual node). */
  readonly owner: T;
  readonly #handler: WireHandler<T>;
  #socket: Socket | undefined;
  #state: ConnectionState = "idle";
  #connectTimeoutMs = 0;
  #keepaliveMs = 0;
  #startedMs = 0;
  #lastSentMs = 0;
  #pingSentMs = 0;
  #nextId = 0;
  /** Packet id → caller's clock when sent, for QoS 1 publishes not yet acknowledged. */
  readonly #inflight = new Map<number, number>();
  #pending: Buffer | undefined;
  #error: Error | undefined;

  // One read buffer and one parser for every connection: reads and parses are synchronous, so whichever
  // connection is `#receiving` owns them for the duration of one callback.
  static readonly #readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  static readonly #parser = parser({ protocolVersion: 4 });
  static #receiving: Connection<unknown> | undefined;
  static {
    Connection.#parser.on("packet", (packet) => {
      const receiving = Connection.#receiving;
      if (receiving) receiving.#onPacket(packet);
    });
    Connection.#parser.on("error", (error) => {
      const receiving = Connection.#receiving;
      if (receiving) {
        receiving.#fail(new SimulatorError("K3SF_ERR_SIM_PROTOCOL", String(error), { cause: error }));
      }
    });
  }

  constructor(owner: T, handler: WireHandler<T>) {
    this.owner = owner;
    this.#handler = handler;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** QoS 1 publishes sent and not acknowledged yet. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Bytes queued in the socket that the kernel has not taken yet. */
  get queuedBytes(): number {
    return this.#socket?.writableLength ?? 0;
  }

  /** Opens the socket and sends CONNECT at once (the socket queues it until the TCP handshake is done). */
  connect(options: ConnectOptions, nowMs: number): void {
    if (this.#state !== "idle") throw new Error(`connect() while ${this.#state}`);
    this.#state = "connecting";
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#keepaliveMs = options.keepaliveSeconds * 1000;
    this.#startedMs = nowMs;
    this.#pingSentMs = 0;
    this.#error = undefined;
    this.#pending = undefined;
    this.#inflight.clear();
    const socket: Socket = netConnect({
      host: options.host,
      port: options.port,
      noDelay: true,
      onread: {
        buffer: Connection.#readBuffer,
        callback: (bytes: number, buffer: Uint8Array): boolean => this.#onRead(socket, bytes, buffer),
      },
    });
    this.#socket = socket;
    socket.on("error", (error) => {
      if (socket === this.#socket) this.#error ??= error;
    });
    socket.on("close", () => this.#onClose(socket));
    const will = options.will;
    this.#send(
      generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: true,
        clientId: options.clientId,
        keepalive: options.keepaliveSeconds,
        username: options.username,
        password: options.password === undefined ? undefined : Buffer.from(options.password),
        will: will && {
          topic: will.topic,
          payload: asBuffer(will.payload),
          qos: will.qos,
          retain: will.retain,
        },
      }),
      nowMs,
    );
  }

  /** Sends a PUBLISH; returns its packet id (0 for QoS 0), or -1 when not connected. */
  publish(message: OutgoingPublish, nowMs: number): number {
    if (this.#state !== "connected" || !this.#socket) return -1;
    const messageId = message.qos === 1 ? this.#takeId() : 0;
    if (messageId > 0) this.#inflight.set(messageId, nowMs);
    this.#send(
      generate({
        cmd: "publish",
        topic: message.topic,
        payload: asBuffer(message.payload),
        qos: message.qos,
        retain: message.retain,
        dup: false,
        messageId: messageId > 0 ? messageId : undefined,
      }),
      nowMs,
    );
    return messageId;
  }

  /** Groups the writes of `fn` into as few TCP segments as possible. */
  batch(fn: () => void): void {
    const socket = this.#socket;
    socket?.cork();
    try {
      fn();
    } finally {
      socket?.uncork();
    }
  }

  /** Timeouts and keepalive: call every second or so with the same clock as the other calls. */
  service(nowMs: number): void {
    if (this.#state === "connecting" && nowMs - this.#startedMs > this.#connectTimeoutMs) {
      this.#fail(
        new SimulatorError("K3SF_ERR_SIM_CONNECT_TIMEOUT", `no CONNACK within ${this.#connectTimeoutMs} ms`),
      );
    } else if (this.#state === "connected" && this.#keepaliveMs > 0) {
      if (this.#pingSentMs > 0 && nowMs - this.#pingSentMs > this.#keepaliveMs) {
        this.#fail(new SimulatorError("K3SF_ERR_SIM_PING_TIMEOUT", "no PINGRESP within the keepalive"));
      } else if (this.#pingSentMs === 0 && nowMs - this.#lastSentMs >= this.#keepaliveMs * 0.75) {
        // The broker drops a client silent for 1.5 × keepalive; ping well before that.
        this.#pingSentMs = nowMs;
        this.#send(PINGREQ, nowMs);
      }
    }
  }

  /** Clean goodbye: DISCONNECT (the broker discards the Will), then close the socket. */
  disconnect(): void {
    const socket = this.#socket;
    if (!socket || this.#state === "closing") return;
    if (this.#state === "connected") socket.write(DISCONNECT);
    this.#state = "closing";
    socket.end();
  }

  /** Abrupt death: the socket goes without DISCONNECT, as a crash or a cut cable would; the broker sends the Will. */
  kill(): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#state = "closing";
    socket.destroy();
  }

  #takeId(): number {
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      this.#nextId = this.#nextId >= MAX_PACKET_ID ? 1 : this.#nextId + 1;
      if (!this.#inflight.has(this.#nextId)) return this.#nextId;
    }
    throw new Error("all 65535 packet ids are in flight");
  }

  #send(bytes: Buffer, nowMs: number): void {
    this.#lastSentMs = nowMs;
    this.#socket?.write(bytes);
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#state = "closing";
    this.#socket?.destroy();
  }

  #onRead(socket: Socket, bytes: number, buffer: Uint8Array): boolean {
    if (socket !== this.#socket) return false;
    let data = asBuffer(buffer).subarray(0, bytes);
    if (this.#pending) {
      data = Buffer.concat([this.#pending, data]);
      this.#pending = undefined;
    }
    let offset = 0;
    Connection.#receiving = this;
    try {
      while (offset < data.length && socket === this.#socket && this.#state !== "closing") {
        const size = packetSize(data, offset);
        if (size < 0) {
          this.#fail(new SimulatorError("K3SF_ERR_SIM_PROTOCOL", "malformed packet length from the broker"));
          return false;
        }
        if (size === 0 || offset + size > data.length) break;
        Connection.#parser.parse(data.subarray(offset, offset + size));
        offset += size;
      }
    } finally {
      Connection.#receiving = undefined;
    }
    const rest = data.length - offset;
    if (rest > 0 && socket === this.#socket) {
      if (rest > MAX_PENDING_BYTES) {
        this.#fail(
          new SimulatorError(
            "K3SF_ERR_SIM_PROTOCOL",
            `packet from the broker over ${MAX_PENDING_BYTES} bytes`,
          ),
        );
        return false;
      }
      this.#pending = Buffer.from(data.subarray(offset)); // a copy: the shared buffer is reused on the next read
    }
    return true;
  }

  #onPacket(packet: Packet): void {
    switch (packet.cmd) {
      case "connack": {
        if (this.#state !== "connecting") break;
        const code = packet.returnCode ?? 0;
        if (code !== 0) {
          this.#fail(
            new SimulatorError(
              "K3SF_ERR_SIM_REFUSED",
              `broker refused the connection: ${REFUSALS[code] ?? `return code ${code}`}`,
            ),
          );
          break;
        }
        this.#state = "connected";
        this.#handler.connected(this);
        break;
      }
      case "puback": {
        const id = packet.messageId ?? 0;
        const sentAt = this.#inflight.get(id);
        if (sentAt === undefined) break; // an ack for a publish of an earlier connection
        this.#inflight.delete(id);
        this.#handler.acked(this, id, sentAt);
        break;
      }
      case "pingresp":
        this.#pingSentMs = 0;
        break;
      default:
        // Nothing else is expected: this client subscribes to nothing.
        break;
    }
  }

  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return;
    const error = this.#error;
    this.#socket = undefined;
    this.#state = "idle";
    this.#pending = undefined;
    this.#error = undefined;
    this.#handler.closed(this, error); // reads `inflight` to count what was lost
    if (this.#state === "idle") this.#inflight.clear();
  }
}
