// Child of bench/web.bench.ts: a fleet of N node ids fed over a few MQTT connections (births, ONLINE
// statuses, then telemetry every interval, spread evenly), so 10,000 nodes do not need 10,000 sockets
// connecting on a machine that other work also loads. Measures PUBLISH→PUBACK (QoS 1) per message.
// Commands on stdin, one a line: "stats" prints {acks, p50, p99, max, published} for the window since
// the last "stats" as one JSON line; "stop" exits. Exits by itself after <lifetimeSeconds>.
//   node bench/web-feed-child.ts <brokerUrl> <nodes> <intervalMs> <topicRoot> <lifetimeSeconds>
import { createInterface } from "node:readline";
import mqtt, { type MqttClient } from "mqtt";
import { encode, topicsFor } from "../proto/index.ts";
import { birth, status, telemetry } from "../test/support/fleet-messages.ts";

const [brokerUrl = "", nodesArg = "0", intervalArg = "5000", root = "", lifetime = "600"] =
  process.argv.slice(2);
setTimeout(() => process.exit(2), Number(lifetime) * 1000).unref();
const NODES = Number(nodesArg);
const INTERVAL_MS = Number(intervalArg);
const CONNECTIONS = 8;
const TICK_MS = 50;
const topics = topicsFor(root);
const ids = Array.from({ length: NODES }, (_, i) => `edge-${String(i + 1).padStart(5, "0")}`);
const clients: MqttClient[] = [];
for (let c = 0; c < CONNECTIONS; c++)
  clients.push(await mqtt.connectAsync(brokerUrl, { clientId: `web-bench-feed-${c}`, protocolVersion: 4 }));
const via = (i: number) => clients[i % CONNECTIONS] as MqttClient;

const now = Date.now();
await Promise.all(
  ids.map(async (id, i) => {
    const b = birth({ session: 1, nodeId: id, intervalMs: INTERVAL_MS, timeMs: now });
    b.labels = { zone: `zone-${i % 7}`, "k3s-fleet.io/bench": "web" };
    await via(i).publishAsync(topics.birth(id), Buffer.from(encode("birth", b)), { qos: 1, retain: true });
    await via(i).publishAsync(
      topics.nodeStatus(id),
      Buffer.from(encode("nodeStatus", status("online", 1, now))),
      {
        qos: 1,
        retain: true,
      },
    );
  }),
);

const seq = new Array<number>(NODES).fill(0);
const cpu = ids.map((_, i) => (i * 37) % 100);
let acks: number[] = [];
let published = 0;
let next = 0;
const start = Date.now();
const timer = setInterval(() => {
  // Every node once per interval, in id order: the nodes whose slot has come since the last tick.
  const due = Math.floor(((Date.now() - start) / INTERVAL_MS) * NODES);
  for (; next < due; next++) {
    const i = next % NODES;
    seq[i] = (seq[i] ?? 0) + 1;
    cpu[i] = Math.max(0, Math.min(100, (cpu[i] ?? 50) + (Math.random() - 0.5) * 10));
    const t = telemetry({
      session: 1,
      seq: seq[i] as number,
      cpu: cpu[i],
      memory: 30 + (i % 50),
      timeMs: Date.now(),
    });
    const sent = performance.now();
    published++;
    via(i)
      .publishAsync(topics.telemetry(ids[i] as string), Buffer.from(encode("telemetry", t)), { qos: 1 })
      .then(
        () => acks.push(performance.now() - sent),
        () => undefined,
      );
  }
}, TICK_MS);
process.stdout.write(`${JSON.stringify({ started: true })}\n`);

const q = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "stats") {
    const sorted = acks.sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({ acks: sorted.length, p50: q(sorted, 0.5), p99: q(sorted, 0.99), max: sorted.at(-1) ?? 0, published })}\n`,
    );
    acks = [];
    published = 0;
  }
  if (line === "stop") {
    clearInterval(timer);
    await Promise.all(clients.map((c) => c.endAsync()));
    process.exit(0);
  }
}
