// The aedes glue for broker limits: wraps authorizePublish and authorizeSubscribe so the limits run first
// and whatever hook was there (auth) runs after them. A refused PUBLISH costs what `refusedPublish` says,
// as for auth refusals: `drop` acknowledges it and delivers it to nobody, `disconnect` closes the connection.
// Refusals are counted by reason; log lines are throttled per client and per interval.
import type { AedesOptions, Client } from "aedes";
import { writeToStream } from "mqtt-packet";
import type { Logger } from "pino";
import { FleetError } from "../../common/errors.ts";
import { DROPPED_TOPIC } from "./auth/index.ts";
import {
  createBucket,
  createLogThrottle,
  type LimitReason,
  type LimitRefusal,
  type LimitSettings,
  type LimitSettingsInput,
  limitProblems,
  publishRefusal,
  resolveLimits,
  subscribeRefusal,
  type TokenBucket,
} from "./limits.ts";
import { createNewNodeGate, type NewNodeBounds } from "./new-nodes.ts";

type AuthorizePublish = NonNullable<AedesOptions["authorizePublish"]>;
type AuthorizeSubscribe = NonNullable<AedesOptions["authorizeSubscribe"]>;

export interface BrokerLimitsOptions {
  topicRoot: string;
  /** Unset values take DEFAULT_LIMITS. */
  settings?: LimitSettingsInput;
  /** Same meaning as auth's (config broker.refusedPublish). */
  refusedPublish: "drop" | "disconnect";
  /** Clients the publish rate does not apply to (the coordinator's own); the other limits still do. */
  rateExempt?: (client: Client) => boolean;
  /** Bound by the caller, e.g. logger.child({ part: "limits" }). */
  logger: Logger;
  /** Monotonic milliseconds; default performance.now. */
  now?: () => number;
  /** A client's refusals are logged at most once per this interval (default 10 s). */
  logIntervalMs?: number;
  /** New node ids per client id / address a minute (new-nodes.ts); rate-exempt clients are not bound. */
  newNodes: NewNodeBounds;
}

export interface BrokerLimits {
  readonly settings: Readonly<LimitSettings>;
  /** authorizePublish that applies the limits, then `next` (default: aedes' own $SYS guard). */
  wrapPublish(next?: AuthorizePublish): AuthorizePublish;
  /** authorizeSubscribe that refuses over-long filters (SUBACK 0x80), then asks `next`. */
  wrapSubscribe(next?: AuthorizeSubscribe): AuthorizeSubscribe;
  /** Refusals so far, by reason. */
  limitRefusals(): Partial<Record<LimitReason, number>>;
}

export type LimitErrorCode =
  /** A publish refused by a limit; `reason` says which. */
  | "K3SF_ERR_LIMIT_REFUSED"
  /** Invalid broker limit settings. */
  | "K3SF_ERR_LIMIT_SETTINGS";

export class LimitError extends FleetError<LimitErrorCode> {
  readonly reason: LimitReason | undefined;
  constructor(code: LimitErrorCode, message: string, reason?: LimitReason) {
    super(code, message);
    this.reason = reason;
  }
}

const DEFAULT_LOG_INTERVAL_MS = 10_000;
const LOGGED_CHARS = 128;

function cut(text: string): string {
  return text.length > LOGGED_CHARS ? `${text.slice(0, LOGGED_CHARS)}…` : text;
}

export function createBrokerLimits(options: BrokerLimitsOptions): BrokerLimits {
  const root = options.topicRoot;
  const settings = resolveLimits(options.settings);
  const problems = limitProblems(settings, root);
  if (problems.length > 0) {
    throw new LimitError("K3SF_ERR_LIMIT_SETTINGS", `invalid broker limits: ${problems.join("; ")}`);
  }
  const log = options.logger;
  prewarmLengthCache();
  const now = options.now ?? (() => performance.now());
  const drop = options.refusedPublish === "drop";
  const rateExempt = options.rateExempt ?? (() => false);
  const rateOn = settings.maxPublishRate > 0;
  const newNodes = createNewNodeGate(options.newNodes);
  const nodePrefix = `${root}/node/`;
  /** The node id of a node topic ({root}/node/{id}/{kind}), else undefined. */
  const nodeIdOf = (topic: string) => {
    if (!topic.startsWith(nodePrefix)) return undefined;
    const slash = topic.indexOf("/", nodePrefix.length);
    return slash > nodePrefix.length ? topic.slice(nodePrefix.length, slash) : undefined;
  };
  const counts = new Map<LimitReason, number>();
  // One bucket per connection, gone with it; `false` marks a client the rate does not apply to.
  const buckets = new WeakMap<Client, TokenBucket | false>();
  const throttle = createLogThrottle({
    intervalMs: options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS,
    maxPerInterval: 100,
    maxKeys: 10_000,
  });

  function bucketOf(client: Client, at: number): TokenBucket | undefined {
    let bucket = buckets.get(client);
    if (bucket === undefined) {
      bucket = rateExempt(client) ? false : createBucket(settings.publishBurst, at);
      buckets.set(client, bucket);
    }
    return bucket === false ? undefined : bucket;
  }

  function refuse(client: Client | null, refusal: LimitRefusal, topic: string, at: number) {
    counts.set(refusal.reason, (counts.get(refusal.reason) ?? 0) + 1);
    // Client ids and topics can be 64 KiB long: cut for the throttle's keys and the log line.
    const clientId = client === null ? undefined : cut(client.id);
    const decision = throttle.admit(`${refusal.reason}\u0000${clientId ?? ""}`, at);
    if (!decision.log) return;
    log.warn(
      {
        clientId,
        reason: refusal.reason,
        topic: cut(topic),
        detail: refusal.detail,
        suppressed: decision.suppressed,
      },
      `mqtt refused by limit: ${refusal.reason}`,
    );
  }

  return {
    settings,
    wrapPublish(next) {
      const then: AuthorizePublish = next ?? aedesDefaultAuthorizePublish;
      return (client, packet, callback) => {
        const at = now();
        // A Will is one message per connection, published after it is gone: never rate limited.
        // aedes passes the client's own `will` packet (not in its typings) when publishing it.
        const isWill = client !== null && packet === (client as Client & { will?: unknown }).will;
        const bucket = rateOn && client !== null && !isWill ? bucketOf(client, at) : undefined;
        const payload = packet.payload;
        let refusal = publishRefusal(
          settings,
          root,
          {
            topic: packet.topic,
            payloadBytes: typeof payload === "string" ? Buffer.byteLength(payload) : payload.length,
            bucket,
          },
          at,
        );
        const nodeId = refusal === undefined && client !== null ? nodeIdOf(packet.topic) : undefined;
        if (nodeId !== undefined && client !== null && !isWill && !rateExempt(client)) {
          const address = "remoteAddress" in client.conn ? client.conn.remoteAddress : undefined;
          if (!newNodes.admit(client.id, address, nodeId, at)) {
            refusal = {
              reason: "new_node_rate",
              detail: `too many new node ids from this client (${nodeId})`,
            };
          }
        }
        if (refusal === undefined) return then(client, packet, callback);
        refuse(client, refusal, packet.topic, at);
        if (drop && client !== null) {
          packet.topic = DROPPED_TOPIC;
          packet.retain = false;
          packet.payload = EMPTY;
          return callback(null);
        }
        callback(
          new LimitError("K3SF_ERR_LIMIT_REFUSED", `publish refused: ${refusal.detail}`, refusal.reason),
        );
      };
    },
    wrapSubscribe(next) {
      return (client, subscription, callback) => {
        const refusal = subscribeRefusal(settings, subscription.topic);
        if (refusal === undefined) {
          return next ? next(client, subscription, callback) : callback(null, subscription);
        }
        refuse(client, refusal, subscription.topic, now());
        callback(null, null); // SUBACK 0x80 for this filter; the others are unaffected
      };
    },
    limitRefusals: () => Object.fromEntries(counts),
  };
}

const EMPTY = Buffer.alloc(0);

/** mqtt-packet caches the encoded remaining length of every packet below this size it writes. */
const LENGTH_CACHE_LIMIT = 16_384;
let lengthCacheWarm = false;

/**
 * Fills mqtt-packet's remaining-length cache for every length it caches, once per process, in one go.
 * Otherwise each entry is a 4-byte slice of whatever Buffer pool slab is current when a packet of a new
 * length is first written, and pins that slab (64 KiB on Node 24): a client publishing many distinct sizes
 * made the broker hold up to 16,384 slabs (~1 GiB; 55 MB after 40,000 fuzz messages). Filled here, the
 * entries share a couple of slabs. The fake stream takes the writes and keeps nothing.
 */
export function prewarmLengthCache(): void {
  if (lengthCacheWarm) return;
  lengthCacheWarm = true;
  const sink = { write: () => true, destroy: () => undefined } as unknown as Parameters<
    typeof writeToStream
  >[1];
  const payload = Buffer.alloc(LENGTH_CACHE_LIMIT);
  // PUBLISH QoS 0 on topic "x": remaining length = 2 + 1 + payload; lengths 0–2 are never PUBLISH.
  for (let length = 3; length < LENGTH_CACHE_LIMIT; length++) {
    writeToStream(
      {
        cmd: "publish",
        topic: "x",
        payload: payload.subarray(0, length - 3),
        qos: 0,
        retain: false,
        dup: false,
      },
      sink,
    );
  }
}

/** aedes' defaultAuthorizePublish, which a custom hook replaces: clients may not publish to $SYS/. */
const aedesDefaultAuthorizePublish: AuthorizePublish = (_client, packet, callback) => {
  if (packet.topic.startsWith("$SYS/")) return callback(new Error("$SYS/ topic is reserved"));
  callback(null);
};
