// Ingest throughput and per-node memory, in-process (no broker): `node bench/ingest.bench.ts`.
// 1. decode + apply of realistic NodeTelemetry over 10,000 node ids, in seq order, with a clock that
//    advances one sampling interval per round, as a live fleet would deliver it;
// 2. heap + typed-array bytes per node once every node holds one hour of history at a 1 s interval;
// 3. the cost of one fleet report over those nodes (build time, encoded size).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import { createIngest } from "../coordinator/fleet/ingest.ts";
import { buildReport } from "../coordinator/report/build.ts";
import { encode, topicsFor } from "../proto/index.ts";
import { birth, telemetry } from "../test/support/fleet-messages.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const NODES = Number(process.env.BENCH_NODES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const WARMUP_ROUNDS = 5;
const INTERVAL_MS = 1000;
const ROOT = "k3s-fleet/v1";
const topics = topicsFor(ROOT);
const logger = pino({ level: "silent" });
const T0 = Date.UTC(2025, 0, 1);

const ids = Array.from({ length: NODES }, (_, i) => `edge-${String(i).padStart(5, "0")}`);
const telemetryTopics = ids.map((id) => topics.telemetry(id));

function throughput() {
  let clock = T0;
  const ingest = createIngest({ root: ROOT, maxPayloadBytes: 64 * 1024, logger, now: () => clock });
  for (const nodeId of ids) {
    ingest.handle(
      topics.birth(nodeId),
      encode("birth", birth({ nodeId, session: 1, intervalMs: INTERVAL_MS })),
    );
  }
  // Each round's payloads are encoded before it, outside the timed section: encoding is the agent's cost,
  // and keeping only one round alive keeps the heap like a live coordinator's (payloads die young).
  let bytes = 0;
  const encodeRound = (r: number) =>
    ids.map((_, n) => {
      const payload = encode(
        "telemetry",
        telemetry({
          session: 1,
          seq: r + 1,
          timeMs: T0 + r * INTERVAL_MS,
          cpu: (n * 7 + r * 13) % 100,
          memory: 20 + ((n + r) % 60),
        }),
      );
      bytes += payload.byteLength;
      return payload;
    });
  let seconds = 0;
  let cpuSeconds = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const payloads = encodeRound(r);
    clock = T0 + r * INTERVAL_MS;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let n = 0; n < NODES; n++) ingest.handle(telemetryTopics[n] as string, payloads[n] as Uint8Array);
    if (r >= WARMUP_ROUNDS) {
      seconds += Number(process.hrtime.bigint() - start) / 1e9;
      const used = process.cpuUsage(cpu);
      cpuSeconds += (used.user + used.system) / 1e6;
    }
  }
  const messages = (ROUNDS - WARMUP_ROUNDS) * NODES;
  const counters = ingest.counters();
  if (counters.duplicates !== 0 || counters.gaps !== 0 || Object.keys(counters.rejected).length !== 0) {
    throw new Error(`benchmark input was not clean: ${JSON.stringify(counters)}`);
  }
  return {
    messages,
    seconds,
    perSecond: messages / seconds,
    cpuSeconds,
    perCpuSecond: messages / cpuSeconds,
    avgPayloadBytes: bytes / (ROUNDS * NODES),
  };
}

function settle() {
  for (let i = 0; i < 3; i++) gc();
}

function memoryPerNode() {
  settle();
  const before = process.memoryUsage();
  let clock = T0;
  const ingest = createIngest({ root: ROOT, maxPayloadBytes: 64 * 1024, logger, now: () => clock });
  const hour = 3600;
  for (const nodeId of ids) {
    ingest.handle(
      topics.birth(nodeId),
      encode("birth", birth({ nodeId, session: 1, intervalMs: INTERVAL_MS })),
    );
  }
  // One decoded sample per node so `latest` is a real message, then an hour of history per node at 1 s
  // (recorded directly: decoding 36 M messages would measure nothing new).
  for (let n = 0; n < NODES; n++) {
    ingest.handle(
      telemetryTopics[n] as string,
      encode("telemetry", telemetry({ session: 1, seq: 1, timeMs: T0 + hour * 1000, cpu: n % 100 })),
    );
  }
  for (let s = 0; s < hour; s++) {
    const t = T0 + s * INTERVAL_MS;
    for (let n = 0; n < NODES; n++)
      ingest.history.record(ids[n] as string, INTERVAL_MS, t, (n + s) % 100, 50);
  }
  clock = T0 + hour * 1000;
  settle();
  const after = process.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  const arrays = after.arrayBuffers - before.arrayBuffers;
  const historyBytes = ingest.history.get(ids[0] as string)?.bytes ?? 0;
  // The report over the same fleet.
  const start = process.hrtime.bigint();
  const report = buildReport(ingest.fleet, ingest.history, {
    now: clock,
    coordinatorId: "bench",
    mode: "standalone",
    ingest: ingest.counters(),
  });
  const buildMs = Number(process.hrtime.bigint() - start) / 1e6;
  const encodeStart = process.hrtime.bigint();
  const reportBytes = encode("report", report).byteLength;
  const encodeMs = Number(process.hrtime.bigint() - encodeStart) / 1e6;
  return { heap, arrays, perNode: (heap + arrays) / NODES, historyBytes, buildMs, encodeMs, reportBytes };
}

// Throughput first, then memory once the throughput run's garbage is collected.
// BENCH_PHASE=throughput skips the memory part (e.g. under --cpu-prof).
const phase = process.env.BENCH_PHASE ?? "all";
const t = throughput();
const m = phase === "throughput" ? undefined : memoryPerNode();
console.log(
  `ingest.handle: ${t.messages} NodeTelemetry (${t.avgPayloadBytes.toFixed(0)} B avg) over ${NODES} nodes ` +
    `in ${t.seconds.toFixed(3)} s = ${Math.round(t.perSecond).toLocaleString("en")} msg/s wall clock; ` +
    `${t.cpuSeconds.toFixed(3)} s CPU (all threads, GC included) = ` +
    `${Math.round(t.perCpuSecond).toLocaleString("en")} msg per CPU-second`,
);
if (m) {
  console.log(
    `memory: ${(m.perNode / 1024).toFixed(1)} KiB per node with 1 h of history at 1 s ` +
      `(heap ${(m.heap / 2 ** 20).toFixed(1)} MiB + typed arrays ${(m.arrays / 2 ** 20).toFixed(1)} MiB ` +
      `for ${NODES} nodes; history rings ${m.historyBytes} B per node)`,
  );
  console.log(
    `report: ${NODES} nodes built in ${m.buildMs.toFixed(0)} ms, encoded in ${m.encodeMs.toFixed(0)} ms, ` +
      `${(m.reportBytes / 1024).toFixed(0)} KiB (${(m.reportBytes / NODES).toFixed(0)} B per node)`,
  );
}
console.log(`node ${process.version}, ${new Date().toISOString()}`);
