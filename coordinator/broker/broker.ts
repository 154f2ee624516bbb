// The embedded MQTT broker: aedes (MQTT 3.1.1) on a plain TCP server, so one command runs the whole
// fleet on one machine. Auth hooks pass straight through to aedes. What a connection may cost is bounded in
// front of aedes (connection-gate.ts: oversized packets closed at their fixed header, sockets pending per
// address, accept rate) and in its persistence (offline-queues.ts: queued messages per persistent session,
// retained bytes); the socket count and the CONNECT timeout are the server's and aedes' own settings.
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { Aedes, type AedesOptions } from "aedes";
import memoryModule from "aedes-persistence";
import type { Logger } from "pino";
import { FleetError } from "../../common/errors.ts";
import { createConnectionGate, type GateRefusalReason } from "./connection-gate.ts";
import type { BrokerLimits } from "./limits-hooks.ts";
import { boundQueues, type QueueBounds, type QueueDropReason } from "./offline-queues.ts";

// The product settings (address, bounds) come resolved from the config schema (cli/config/defaults.ts
// brokerSettings); a test or bench passes the schema's defaults (test/support/defaults.ts BROKER_DEFAULTS).

/** Idle time before TCP keepalive probes a silent client (see onSocket). */
const TCP_KEEPALIVE_IDLE_MS = 60_000;
export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port; the actual one is in the result. */
  port: number;
  logger: Logger;
  /**
   * Hard cap on one PUBLISH payload. A client exceeding it is disconnected (MQTT 3.1.1 has no other way to
   * refuse a publish), so its Will fires. Must stay above the largest fleet report.
   */
  maxPayloadBytes: number;
  /** Listen with TLS (mqtts://); client certificates are verified when `requestCert` is set. */
  tls?: TlsOptions;
  preConnect?: AedesOptions["preConnect"];
  authenticate?: AedesOptions["authenticate"];
  authorizePublish?: AedesOptions["authorizePublish"];
  authorizeSubscribe?: AedesOptions["authorizeSubscribe"];
  /**
   * Topic length, per-topic payload and per-client rate limits (`createBrokerLimits`). They run before
   * `authorizePublish` / `authorizeSubscribe`, which still run for what the limits let through.
   */
  limits?: BrokerLimits;
  /** What a connection may cost before CONNACK; see connection-gate.ts. */
  connections: ConnectionBounds;
  /** Per-client queues of persistent sessions; see offline-queues.ts. */
  queues: QueueBounds;
}

export interface ConnectionBounds {
  /** A CONNECT announcing more bytes is dropped at its fixed header, before it is read. */
  maxConnectBytes: number;
  /** Sockets per remote address open without a completed CONNECT/CONNACK. */
  maxPendingPerAddress: number;
  /** New sockets per second per remote address, 0 = no limit (EMQX max_conn_rate, but per address). */
  connectRatePerAddress: number;
  /** All sockets at once (net.Server maxConnections); keep it below the process's open-file limit. */
  maxConnections: number;
  /** Time a socket has to send CONNECT (aedes connectTimeout; EMQX idle_timeout defaults to 15 s). */
  connectTimeoutMs: number;
}

// The package is CommonJS and its types declare an ES default export: at run time the default import is the
// factory itself.
const memoryPersistence = memoryModule as unknown as () => object;

/** Room for the variable header of a PUBLISH (topic ≤ 65,535 bytes, its length, a packet id) above the payload cap. */
const PUBLISH_HEADER_ROOM = 65_535 + 2 + 2;

export interface EmbeddedBroker {
  /** mqtt://host:port for clients. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** Connections closed before CONNACK by the connection gate, by reason. */
  connectionRefusals(): Partial<Record<GateRefusalReason, number>>;
  /** Messages not queued for a persistent session because its queue was full, by reason. */
  queueDrops(): Partial<Record<QueueDropReason, number>>;
  /** Messages and payload bytes queued for a persistent session (including those awaiting PUBACK). */
  queued(clientId: string): { messages: number; bytes: number };
  /** Disconnects every client and stops listening; idempotent. */
  close(): Promise<void>;
}

export type BrokerErrorCode =
  /** The embedded broker's listener could not bind its host and port. */
  | "K3SF_ERR_BROKER_LISTEN"
  /** A PUBLISH larger than `maxPayloadBytes` was refused. */
  | "K3SF_ERR_PAYLOAD_TOO_LARGE";

export class BrokerError extends FleetError<BrokerErrorCode> {}

type AuthorizePublish = NonNullable<AedesOptions["authorizePublish"]>;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { host, port, logger: log, maxPayloadBytes } = options;
  // aedes takes a key that is present but undefined as "no handler": pass only the hooks that are set.
  const hooks: AedesOptions = {};
  if (options.preConnect) hooks.preConnect = options.preConnect;
  if (options.authenticate) hooks.authenticate = options.authenticate;
  const { limits } = options;
  const authorizeSubscribe = limits
    ? limits.wrapSubscribe(options.authorizeSubscribe)
    : options.authorizeSubscribe;
  if (authorizeSubscribe) hooks.authorizeSubscribe = authorizeSubscribe;
  const authorizePublish = limitPayload(
    maxPayloadBytes,
    limits ? limits.wrapPublish(options.authorizePublish) : options.authorizePublish,
  );
  if (authorizePublish) hooks.authorizePublish = authorizePublish;
  // concurrency 0: aedes' default bounded dispatcher (mqemitter) overflows the stack when thousands of clients
  // drop at once and their Wills fan out together (reproduced by bench/suite/aedes-burst.ts).
  const bounds = options.connections;
  const queues = boundQueues(memoryPersistence(), options.queues);
  const aedes = await Aedes.createBroker({
    ...hooks,
    concurrency: 0,
    connectTimeout: bounds.connectTimeoutMs,
    persistence: queues.persistence,
  });
  const gate = createConnectionGate({
    maxConnectBytes: bounds.maxConnectBytes,
    maxPacketBytes: maxPayloadBytes + PUBLISH_HEADER_ROOM,
    maxPendingPerAddress: bounds.maxPendingPerAddress,
    connectRatePerAddress: bounds.connectRatePerAddress,
    logger: log,
  });
  aedes.on("client", (client) => gate.connected(client.conn as Socket));
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error }, "client error"));
  aedes.on("connectionError", (_client, error) => log.debug({ err: error }, "connection error"));
  aedes.on("keepaliveTimeout", (client) => log.info({ clientId: client.id }, "client keepalive timed out"));

  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    // Small MQTT packets (PUBACK, replies) must not wait ~40 ms for Nagle's algorithm.
    socket.setNoDelay(true);
    // MQTT allows keepalive 0 (none): such a client that vanishes without a FIN (power cut, Wi-Fi gone)
    // would be held for ever. TCP keepalive finds it: probes after this idle time, ten 1 s apart (libuv).
    socket.setKeepAlive(true, TCP_KEEPALIVE_IDLE_MS);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (gate.admit(socket)) aedes.handle(socket);
  };
  const server: Server = options.tls ? createTlsServer(options.tls, onSocket) : createServer(onSocket);
  server.maxConnections = bounds.maxConnections;
  try {
    await listen(server, host, port);
  } catch (error) {
    await closeAedes(aedes);
    throw new BrokerError("K3SF_ERR_BROKER_LISTEN", `embedded broker cannot listen on ${host}:${port}`, {
      cause: error,
    });
  }
  const address = server.address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  const url = `${options.tls ? "mqtts" : "mqtt"}://${host.includes(":") ? `[${host}]` : host}:${actualPort}`;
  log.info({ url }, "embedded mqtt broker listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port: actualPort,
    aedes,
    connectionRefusals: () => gate.refusals(),
    queueDrops: () => queues.dropped(),
    queued: (clientId) => queues.queued(clientId),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeAedes(aedes);
        // aedes closes its clients; anything that never completed CONNECT is ours to end.
        for (const socket of sockets) socket.destroy();
        await stopped;
        log.info({ url }, "embedded mqtt broker closed");
      })();
      return closing;
    },
  };
}

/** Wraps authorizePublish with the payload cap; the default one also guards the reserved $SYS topics. */
function limitPayload(maxPayloadBytes: number, next: AuthorizePublish | undefined) {
  const limited: AuthorizePublish = (client, packet, callback) => {
    const size =
      typeof packet.payload === "string" ? Buffer.byteLength(packet.payload) : packet.payload.length;
    if (size > maxPayloadBytes) {
      return callback(
        new BrokerError("K3SF_ERR_PAYLOAD_TOO_LARGE", `payload ${size} bytes > ${maxPayloadBytes}`),
      );
    }
    if (next !== undefined) return next(client, packet, callback);
    if (packet.topic.startsWith("$SYS/")) return callback(new Error("$SYS/ topic is reserved"));
    callback(null);
  };
  return limited;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}
