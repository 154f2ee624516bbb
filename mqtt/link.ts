// One MQTT connection with the project's session hygiene: a Will chosen afresh before every connect,
// jittered backoff between attempts, typed publishes from the contract, and isolated message handlers.
import { EventEmitter } from "node:events";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Logger } from "pino";
import { type Backoff, type BackoffOptions, createBackoff } from "../common/backoff.ts";
import { encode, type MessageOf } from "../proto/codec.ts";
import { CONTRACT, type QoS, type TopicKind } from "../proto/topics.ts";

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export interface RawPublish {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface LinkOptions {
  url: string;
  clientId: string;
  logger: Logger;
  /** MQTT keepalive; the product's comes from broker.keepalive (cli/config/defaults.ts keepaliveSeconds). */
  keepaliveSeconds: number;
  clean?: boolean;
  username?: string;
  password?: string;
  tls?: TlsOptions;
  backoff?: Partial<BackoffOptions>;
  connectTimeoutMs?: number;
  /**
   * A connection must last this long before the backoff starts again from its first step; one dropped
   * sooner (taken over by another client with the same id, refused by an ACL after CONNACK) keeps growing
   * it, so such a loop backs off instead of spinning. Default 10 s.
   */
  stableMs?: number;
  /** Monotonic clock (ms) for `stableMs`. */
  monotonic?: () => number;
  /** Called before every connect attempt: the Will for that attempt (e.g. with a new session number). */
  will?: () => RawPublish | undefined;
  random?: () => number;
  /**
   * MQTT.js's pre-built buffers for every packet id (65,536 of them, ~6.5 MiB of heap); false writes ids as
   * they are needed, as a small agent wants. The setting is global to the process's mqtt-packet module.
   */
  writeCache?: boolean;
}

const DEFAULT_STABLE_MS = 10_000;

/** `retained`: the broker replayed a stored message (to a new subscription), it was not just published. */
export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => void;

interface LinkEvents {
  /** Connected (again); publish births and statuses here. */
  connect: [];
  /** Connection lost or refused; a reconnect is already scheduled. */
  disconnect: [error: Error | undefined];
}

/** Builds a typed publish for a contract kind: QoS and retain come from the contract, never the caller. */
export function contractPublish<K extends TopicKind>(
  kind: K,
  topic: string,
  message: MessageOf<K>,
): RawPublish {
  return encodedPublish(kind, topic, encode(kind, message));
}

/** The same for bytes already encoded as a message of that kind (e.g. a report encoded in slices). */
export function encodedPublish(kind: TopicKind, topic: string, payload: Uint8Array): RawPublish {
  const spec = CONTRACT[kind];
  return { topic, payload, qos: spec.qos, retain: spec.retain };
}

/** How long `close` waits for the final status and a clean DISCONNECT before it ends the connection at once. */
export const CLOSE_TIMEOUT_MS = 3_000;

/** `work`, or a rejection with `message` after `ms`; the timer never keeps the process alive. */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class Link extends EventEmitter<LinkEvents> {
  readonly clientId: string;
  readonly #client: MqttClient;
  readonly #options: LinkOptions;
  readonly #backoff: Backoff;
  readonly #handlers: MessageHandler[] = [];
  readonly #log: Logger;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #started = false;
  #switching = false;
  #lastError: Error | undefined;
  #connectedAt: number | undefined;

  constructor(options: LinkOptions) {
    super();
    this.#options = options;
    this.clientId = options.clientId;
    this.#log = options.logger;
    this.#backoff = createBackoff(options.backoff, options.random);
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      protocolVersion: 4, // MQTT 3.1.1: what the embedded aedes speaks
      keepalive: options.keepaliveSeconds,
      clean: options.clean ?? true,
      reconnectPeriod: 0, // reconnects are ours, with jittered backoff
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      manualConnect: true,
      username: options.username,
      password: options.password,
      resubscribe: true,
      writeCache: options.writeCache ?? true,
      ...options.tls,
    };
    this.#client = mqtt.connect(options.url, clientOptions);
    this.#client.on("connect", () => {
      // Request/reply traffic (schedule requests) must not wait ~40 ms for Nagle's algorithm.
      (this.#client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.#connectedAt = (options.monotonic ?? performance.now.bind(performance))();
      this.#lastError = undefined;
      this.#log.info({ url: options.url }, "mqtt connected");
      this.emit("connect");
    });
    this.#client.on("error", (error) => {
      this.#lastError = error;
    });
    this.#client.on("close", () => this.#scheduleReconnect());
    this.#client.on("message", (topic, payload, packet) => {
      for (const handler of this.#handlers) {
        try {
          handler(topic, payload, packet.retain);
        } catch (error) {
          // One bad payload or handler must not stop the others or the connection.
          this.#log.error({ err: error, topic }, "message handler failed");
        }
      }
    });
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  /** Starts connecting; resolves on the first successful connect (later ones emit `connect`). */
  start(): Promise<void> {
    const connected = new Promise<void>((resolve) => this.#client.once("connect", () => resolve()));
    this.#connect();
    return connected;
  }

  onMessage(handler: MessageHandler): void {
    this.#handlers.push(handler);
  }

  async subscribe(filters: string[], qos: QoS = 1): Promise<void> {
    await this.#client.subscribeAsync(filters, { qos });
  }

  /** Subscribes and resolves with the granted QoS per filter, in order (0x80: refused by the broker). */
  async subscribeGranted(filters: string[], qos: QoS = 1): Promise<number[]> {
    try {
      const granted = await this.#client.subscribeAsync(filters, { qos });
      return filters.map((filter) => granted.find((g) => g.topic === filter)?.qos ?? 0x80);
    } catch (error) {
      // mqtt.js rejects a SUBACK with a failure code; the codes are on the packet it carries.
      const codes = (error as { packet?: { granted?: unknown } }).packet?.granted;
      if (Array.isArray(codes))
        return filters.map((_, i) => (typeof codes[i] === "number" ? codes[i] : 0x80));
      throw error;
    }
  }

  publish<K extends TopicKind>(kind: K, topic: string, message: MessageOf<K>): Promise<void> {
    return this.publishRaw(contractPublish(kind, topic, message));
  }

  async publishRaw(p: RawPublish): Promise<void> {
    await this.#client.publishAsync(
      p.topic,
      Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength),
      {
        qos: p.qos,
        retain: p.retain,
      },
    );
  }

  /** Publishes `last` (e.g. a retained offline status) if connected, then disconnects cleanly. */
  async close(last?: RawPublish, timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#reconnectTimer);
    if (last && this.#client.connected) {
      try {
        await withTimeout(this.publishRaw(last), timeoutMs, "final status not acknowledged");
      } catch (error) {
        this.#log.warn({ err: error }, "could not publish final status");
      }
    }
    // A clean end waits for every unacknowledged QoS 1 publish; a broker that will never acknowledge one (it
    // dropped the connection over it) must not hold a shutdown for ever: after `timeoutMs`, end at once.
    const graceful = this.#client.endAsync(!this.#client.connected);
    try {
      await withTimeout(graceful, timeoutMs, "clean disconnect took too long");
    } catch (error) {
      this.#log.warn({ err: error }, "ending the MQTT connection at once");
      await this.#client.endAsync(true);
    }
  }

  /**
   * Ends the connection cleanly (a DISCONNECT: the broker discards the Will) and connects again at once, so
   * the next connect carries a newly chosen Will, e.g. after the coordinator changed role. Resolves when
   * connected again, or after `timeoutMs` (the usual reconnects carry on).
   */
  async reconnectNow(timeoutMs = 10_000): Promise<void> {
    if (this.#closing) return;
    this.#switching = true;
    try {
      // A DISCONNECT waits for in-flight QoS 1 publishes; on a dead connection that can be for ever, and
      // then there is no clean way left: end it at once (the broker sends the old Will, as it would anyway).
      const graceful = this.#client.endAsync(false);
      const done = await Promise.race([
        graceful.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.min(2_000, timeoutMs)).unref()),
      ]);
      if (!done) await this.#client.endAsync(true);
    } finally {
      this.#switching = false;
    }
    if (this.#closing) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const connected = new Promise<void>((resolve) => {
      this.#client.once("connect", () => resolve());
      timer = setTimeout(resolve, timeoutMs);
    });
    this.#connect();
    await connected;
    clearTimeout(timer);
  }

  /** Drops the connection without a DISCONNECT packet, as a crash would (the broker sends the Will). */
  destroy(): void {
    this.#closing = true;
    clearTimeout(this.#reconnectTimer);
    this.#client.stream?.destroy();
    this.#client.end(true);
  }

  #connect(): void {
    const will = this.#options.will?.();
    this.#client.options.will = will
      ? { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain }
      : undefined;
    if (this.#started) {
      this.#client.reconnect();
    } else {
      this.#started = true;
      this.#client.connect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#closing || this.#switching || this.#reconnectTimer !== undefined) return;
    const connectedAt = this.#connectedAt;
    this.#connectedAt = undefined;
    const lastedMs =
      connectedAt === undefined
        ? undefined
        : (this.#options.monotonic ?? performance.now.bind(performance))() - connectedAt;
    if (lastedMs !== undefined && lastedMs >= (this.#options.stableMs ?? DEFAULT_STABLE_MS)) {
      this.#backoff.reset();
    }
    const delay = this.#backoff.next();
    const short = lastedMs !== undefined && lastedMs < (this.#options.stableMs ?? DEFAULT_STABLE_MS);
    this.#log.warn(
      {
        err: this.#lastError,
        delayMs: delay,
        attempt: this.#backoff.attempts,
        ...(lastedMs === undefined ? {} : { connectedMs: Math.round(lastedMs) }),
      },
      short && this.#lastError === undefined
        ? // MQTT 3.1.1 says nothing when it closes: a broker going away, refusing a packet and handing the
          // client id to another connection all look the same here.
          `mqtt disconnected soon after connecting: the broker went away, refused what this client sent, or another client connected with client id "${this.clientId}"`
        : "mqtt disconnected",
    );
    this.emit("disconnect", this.#lastError);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#closing) this.#connect();
    }, delay);
  }
}
