// Child process of bench/simulator.bench.ts: subscribes to every node's telemetry, decodes it, and measures
// end-to-end latency (receive time − the `time` field the simulator stamped at publish) and per-node seq
// order. Runs apart from the simulator so its CPU and memory do not count against the simulator's.
// Protocol over IPC: parent sends "measure" (reset counters, start the window) and "report" (reply, exit).
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { decode, parseTopic, timestampMs } from "../proto/index.ts";
import { LatencyHistogram } from "../simulator/latency.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, root: { type: "string" } },
});
const url = values.url ?? "";
const root = values.root ?? "";

let received = 0;
let decodeErrors = 0;
let outOfOrder = 0;
let gaps = 0;
let latency = new LatencyHistogram();
let cpuAtStart = process.cpuUsage();
let measureStart = performance.now();
/** Per node: "session:seq" of the last telemetry. */
const last = new Map<string, { session: bigint; seq: bigint }>();

const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `bench-sub-${process.pid}` });
client.on("message", (topic, payload) => {
  const arrived = Date.now();
  const parsed = parseTopic(root, topic);
  if (!parsed.ok || parsed.topic.kind !== "telemetry") return;
  const result = decode("telemetry", payload);
  if (!result.ok) {
    decodeErrors += 1;
    return;
  }
  received += 1;
  const t = result.message;
  const sent = timestampMs(t.time);
  if (sent !== undefined) latency.record(Math.max(0, arrived - sent));
  const previous = last.get(parsed.topic.nodeId);
  if (previous && previous.session === t.session) {
    if (t.seq <= previous.seq) outOfOrder += 1;
    else gaps += Number(t.seq - previous.seq - 1n);
  }
  last.set(parsed.topic.nodeId, { session: t.session, seq: t.seq });
});
await client.subscribeAsync(`${root}/node/+/telemetry`, { qos: 1 });
process.send?.({ ready: true });

process.on("message", (message) => {
  if (message === "measure") {
    received = 0;
    decodeErrors = 0;
    outOfOrder = 0;
    gaps = 0;
    latency = new LatencyHistogram();
    cpuAtStart = process.cpuUsage();
    measureStart = performance.now();
  }
  if (message === "report") {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - measureStart)) * 100;
    process.send?.(
      {
        received,
        decodeErrors,
        outOfOrder,
        gaps,
        nodes: last.size,
        latencyMs: latency.summary(),
        rss: memory.rss,
        cpuPercent,
      },
      () => {
        void client.endAsync().then(() => process.exit(0));
      },
    );
  }
});
