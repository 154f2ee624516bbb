// The child process behind limits-hooks.test.ts's prewarm test: an embedded broker routes PUBLISH packets of
// many new lengths, each first written just after the Buffer pool moved on to a new slab, and the process's
// ArrayBuffer memory is compared before and after, around forced GCs. Measured in a process of its own, so no
// other test's allocations or sockets count. Prints one JSON line (NewLengthFigures).
// Usage: node --expose-gc --no-concurrent-array-buffer-sweeping test/support/limits-hooks-child.ts limits|bare
//   limits: the broker has createBrokerLimits, which prewarms mqtt-packet's length cache;
//   bare:   no limits, so nothing prewarms: what the measurement sees when each new length pins a slab.
// --no-concurrent-array-buffer-sweeping: by default V8 frees dead ArrayBuffers on a background thread after
// gc() returns, and on a loaded machine `arrayBuffers` read right after still counts all of them.
import mqtt from "mqtt";
import pino from "pino";
import { startEmbeddedBroker } from "../../coordinator/broker/broker.ts";
import { createBrokerLimits } from "../../coordinator/broker/limits-hooks.ts";
import { BROKER_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "./defaults.ts";

export type NewLengthMode = "limits" | "bare";

export interface NewLengthFigures {
  mode: NewLengthMode;
  /** Distinct PUBLISH remaining lengths routed, all below mqtt-packet's 16,384-byte cache limit. */
  lengths: number;
  /** Buffer.poolSize: what one pinned slab costs. */
  slabBytes: number;
  /** process.memoryUsage().arrayBuffers after the packets minus before, both after forced GCs. */
  growthBytes: number;
}

const LENGTHS = 500;
const TOPIC = "probe/lengths"; // outside any topic root: the limits' 64 KiB "other" class

const mode = process.argv[2];
if (mode !== "limits" && mode !== "bare") throw new Error(`usage: limits-hooks-child.ts limits|bare`);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("limits-hooks-child.ts needs node --expose-gc");

/** Two GCs: the second also frees what the first left as floating garbage. */
function arrayBuffersAfterGc(collect: () => void): number {
  collect();
  collect();
  return process.memoryUsage().arrayBuffers;
}

/** Uses up the current Buffer pool slab: the next pooled allocation (a new length's cache entry) starts one. */
function fillPoolSlab(): void {
  const half = (Buffer.poolSize >>> 1) - 8;
  Buffer.allocUnsafe(half);
  Buffer.allocUnsafe(half);
}

const logger = pino({ level: "silent" });
const limits =
  mode === "limits"
    ? createBrokerLimits({
        newNodes: BROKER_DEFAULTS.newNodes,
        refusedPublish: "disconnect",
        topicRoot: "k3s-fleet/v1",
        logger,
        settings: { maxPublishRate: 0 },
      })
    : undefined;
const broker = await startEmbeddedBroker({
  ...EMBEDDED_BROKER_DEFAULTS,
  port: 0,
  logger,
  ...(limits ? { limits } : {}),
});
const options = { protocolVersion: 4, reconnectPeriod: 0 } as const;
const subscriber = await mqtt.connectAsync(broker.url, options);
await subscriber.subscribeAsync(TOPIC, { qos: 0 });
const publisher = await mqtt.connectAsync(broker.url, options);
const payload = Buffer.alloc(16_384);

/** Publishes `bytes` of payload and waits until the broker has written it to the subscriber. */
async function route(bytes: number): Promise<void> {
  const delivered = new Promise<void>((resolve) => subscriber.once("message", () => resolve()));
  await publisher.publishAsync(TOPIC, payload.subarray(0, bytes), { qos: 0 });
  await delivered;
}

await route(0); // one-time allocations (mqtt-packet's number cache, stream state) happen before `before`
const before = arrayBuffersAfterGc(gc);
for (let i = 0; i < LENGTHS; i++) {
  fillPoolSlab();
  await route(3 + i * 31); // remaining length 2 + 13 + payload: 18 to 15,487, all distinct
}
await new Promise((resolve) => setImmediate(resolve));
const after = arrayBuffersAfterGc(gc);

await publisher.endAsync();
await subscriber.endAsync();
await broker.close();
const figures: NewLengthFigures = {
  mode,
  lengths: LENGTHS,
  slabBytes: Buffer.poolSize,
  growthBytes: after - before,
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
