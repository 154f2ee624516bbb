// The embedded MQTT broker: aedes (MQTT 3.1.1) on a plain TCP server, so one command runs the whole
// fleet on one machine. Auth hooks pass straight through to aedes (the seam for a later issue).
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { Aedes, type AedesOptions } from "aedes";
import type { Logger } from "pino";
import type { BrokerLimits } from "./limits-hooks.ts";

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 picks a free port; the actual one is in the result. */
  port?: number;
  logger: Logger;
  /**
   * Hard cap on one PUBLISH payload. A client exceeding it is disconnected (MQTT 3.1.1 has no other way to
   * refuse a publish), so its Will fires. Unset: no cap. Must stay above the largest fleet report.
   */
  maxPayloadBytes?: number;
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
}

export interface EmbeddedBroker {
  /** mqtt://host:port for clients. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** Disconnects every client and stops listening; idempotent. */
  close(): Promise<void>;
}

export class BrokerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BrokerError";
    this.code = code;
  }
}

type AuthorizePublish = NonNullable<AedesOptions["authorizePublish"]>;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { host = "127.0.0.1", port = 1883, logger: log, maxPayloadBytes } = options;
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
  const aedes = await Aedes.createBroker({ ...hooks, concurrency: 0 });
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error }, "client error"));
  aedes.on("connectionError", (_client, error) => log.debug({ err: error }, "connection error"));
  aedes.on("keepaliveTimeout", (client) => log.info({ clientId: client.id }, "client keepalive timed out"));

  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    // Small MQTT packets (PUBACK, replies) must not wait ~40 ms for Nagle's algorithm.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    aedes.handle(socket);
  };
  const server: Server = options.tls ? createTlsServer(options.tls, onSocket) : createServer(onSocket);
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
function limitPayload(maxPayloadBytes: number | undefined, next: AuthorizePublish | undefined) {
  if (maxPayloadBytes === undefined) return next;
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
