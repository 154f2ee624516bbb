// Fleet simulator footprint: N virtual nodes, each on its own MQTT connection, against a real Mosquitto
// process, with a subscriber in a third process that checks delivery and end-to-end latency.
// Usage: node bench/simulator.bench.ts --nodes 10000 --duration 30 [--interval 1000] [--connect-rate 1000]
//        [--warmup 5] [--no-subscriber]
// Reports this process's RSS and V8 heap before the simulation and after the measured window (both after a
// full GC), so (after − before) / N is the memory one virtual node costs; CPU % of one core over the window
// (process.cpuUsage); telemetry published and acknowledged per second; PUBACK round trips; event-loop delay;
// Mosquitto's own RSS and CPU from /proc.
import { type ChildProcess, execFileSync, fork, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import { startSimulation } from "../simulator/index.ts";
import { startMosquitto } from "../test/support/mosquitto.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    duration: { type: "string", default: "30" },
    interval: { type: "string", default: "1000" },
    "connect-rate": { type: "string", default: "1000" },
    warmup: { type: "string", default: "5" },
    "no-subscriber": { type: "boolean", default: false },
  },
});
const nodes = Number(values.nodes);
const durationS = Number(values.duration);
const intervalMs = Number(values.interval);
const connectRate = Number(values["connect-rate"]);
const warmupS = Number(values.warmup);
const withSubscriber = !values["no-subscriber"];
const ROOT = "bench-sim/v1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MiB = 1024 * 1024;

// --- file descriptors: one socket per virtual node here, one per client in Mosquitto --------------------
const FD_HEADROOM = 512;
const needFds = nodes + FD_HEADROOM;
const limit = (flag: "-Sn" | "-Hn") => {
  const out = spawnSync("sh", ["-c", `ulimit ${flag}`], { encoding: "utf8" }).stdout.trim();
  return out === "unlimited" ? Infinity : Number(out);
};
// Node raises its own soft limit to the hard limit at startup, and Mosquitto inherits it from us: what a
// child shell reports is what both processes get.
if (limit("-Sn") < needFds) {
  process.stderr.write(
    `ulimit -n is ${limit("-Sn")} (hard limit ${limit("-Hn")}); ${nodes} virtual nodes need at least ${needFds} ` +
      "open files in this process and in Mosquitto. Raise the hard limit (`ulimit -Hn` as root, or LimitNOFILE= " +
      "in a systemd unit, or --ulimit nofile= for a container) and run again.\n",
  );
  process.exit(1);
}

// A bench must end by itself, whatever happens.
setTimeout(
  () => {
    process.stderr.write("bench did not finish in time; giving up\n");
    process.exit(2);
  },
  (durationS + warmupS + nodes / connectRate + 120) * 1000,
).unref();

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function procSample(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return { at: performance.now(), ticks: Number(fields[11]) + Number(fields[12]), rssKiB };
}

function settledMemory() {
  gc();
  gc();
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    newSpace,
    external: m.external + m.arrayBuffers,
  };
}

interface SubscriberReport {
  received: number;
  decodeErrors: number;
  outOfOrder: number;
  gaps: number;
  nodes: number;
  latencyMs: { samples: number; p50: number; p90: number; p99: number; max: number };
  rss: number;
  cpuPercent: number;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (reply) => resolve(reply as T));
    child.send(message);
  });
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loadBefore = loadavg();

// --- broker and subscriber -------------------------------------------------------------------------------
const mosquitto = await startMosquitto([
  "max_connections -1",
  "max_inflight_messages 1000",
  "max_queued_messages 100000",
  "log_type error",
  "log_type warning",
]);
const mosquittoPid = mosquitto.process.pid ?? 0;
let subscriber: ChildProcess | undefined;
if (withSubscriber) {
  subscriber = fork(
    new URL("./simulator-subscriber.ts", import.meta.url),
    ["--url", mosquitto.url, "--root", ROOT],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  await new Promise((resolve) => subscriber?.once("message", resolve));
}

// --- simulation -----------------------------------------------------------------------------------------
const before = settledMemory();
const logger = pino({ level: "warn" });
const connectStart = performance.now();
const sim = await startSimulation({
  brokerUrl: mosquitto.url,
  nodes,
  intervalMs,
  topicRoot: ROOT,
  connectRate,
  flapFraction: 0,
  seed: 42,
  logger,
});
const allConnected = await sim.waitForConnected(nodes, (nodes / connectRate) * 1000 + 30_000);
const connectSeconds = (performance.now() - connectStart) / 1000;
process.stderr.write(
  `${allConnected ? "all" : "NOT all"} ${nodes} nodes connected in ${connectSeconds.toFixed(1)} s; warming up ${warmupS} s\n`,
);
await sleep(warmupS * 1000);

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
subscriber?.send("measure");
const start = {
  stats: sim.stats({ resetLatency: true }),
  cpu: process.cpuUsage(),
  at: performance.now(),
  broker: procSample(mosquittoPid),
};
const rssSeries: number[] = [];
const end = start.at + durationS * 1000;
while (performance.now() < end) {
  await sleep(Math.min(1000, end - performance.now()));
  rssSeries.push(process.memoryUsage().rss);
}
const finish = {
  stats: sim.stats(),
  cpu: process.cpuUsage(start.cpu),
  at: performance.now(),
  broker: procSample(mosquittoPid),
};
const loadAfter = loadavg();
loopDelay.disable();
const sub = subscriber ? await ask<SubscriberReport>(subscriber, "report") : undefined;
const after = settledMemory();

const stopStart = performance.now();
await sim.stop("bench finished");
const stopSeconds = (performance.now() - stopStart) / 1000;
const final = sim.stats();
await mosquitto.stop();

// --- report ---------------------------------------------------------------------------------------------
const seconds = (finish.at - start.at) / 1000;
const cpuPercent = ((finish.cpu.user + finish.cpu.system) / 1e6 / seconds) * 100;
const brokerCpuPercent = ((finish.broker.ticks - start.broker.ticks) / CLK_TCK / seconds) * 100;
const published = finish.stats.published - start.stats.published;
const acked = finish.stats.acked - start.stats.acked;
const f = (n: number, digits = 1) => n.toFixed(digits);
const perNode = (bytes: number) => `${f(bytes / nodes / 1024, 2)} KiB`;
const sortedRss = [...rssSeries].sort((a, b) => a - b);
const lat = finish.stats.ackLatencyMs;
const late = (p: number) => Math.max(0, loopDelay.percentile(p) / 1e6 - 10);

const lines = [
  `date: ${new Date().toISOString()}  node: ${process.version}  nproc: ${cpus().length}  mosquitto: ${mosquittoVersion()}`,
  `command: node ${process.execArgv.map((a) => `${a} `).join("")}bench/simulator.bench.ts --nodes ${nodes} --duration ${durationS} --interval ${intervalMs} --connect-rate ${connectRate} --warmup ${warmupS}${withSubscriber ? "" : " --no-subscriber"}`,
  `machine load average (1/5/15 min) before: ${loadBefore}, at the end of the window: ${loadAfter} (other work on this machine competes for its ${cpus().length} cores)`,
  "",
  `connect: ${allConnected ? "all" : "NOT all"} ${nodes} nodes in ${f(connectSeconds)} s (rate limit ${connectRate}/s); errors during the run: ${final.errors} ${JSON.stringify(final.errorsByCode)}`,
  `memory (after full GC): RSS ${f(before.rss / MiB)} → ${f(after.rss / MiB)} MiB = ${perNode(after.rss - before.rss)} per virtual node; V8 heap used ${f(before.heapUsed / MiB)} → ${f(after.heapUsed / MiB)} MiB = ${perNode(after.heapUsed - before.heapUsed)} per node; V8 heap committed ${f(before.heapTotal / MiB)} → ${f(after.heapTotal / MiB)} MiB, of which young generation ${f(before.newSpace / MiB)} → ${f(after.newSpace / MiB)} MiB; external+arrayBuffers ${f(before.external / MiB)} → ${f(after.external / MiB)} MiB; node flags: ${process.execArgv.join(" ") || "none"}`,
  `RSS during the window (no forced GC): min ${f((sortedRss[0] ?? 0) / MiB)} / max ${f((sortedRss.at(-1) ?? 0) / MiB)} MiB`,
  `simulator CPU: ${f(cpuPercent)} % of one core over ${f(seconds)} s; event-loop lateness (10 ms probe, probe period subtracted) p50 ${f(late(50))} ms, p99 ${f(late(99))} ms, max ${f(Math.max(0, loopDelay.max / 1e6 - 10))} ms`,
  `telemetry: ${published} published (${f(published / seconds)}/s, target ${f((nodes * 1000) / intervalMs)}/s), ${acked} acknowledged (${f(acked / seconds)}/s); skipped (backpressure) ${finish.stats.skipped - start.stats.skipped}, lagged slots ${finish.stats.lagged - start.stats.lagged}, in flight at end ${finish.stats.inflight}`,
  `PUBACK round trip (measured window): p50 ${f(lat.p50, 2)} ms, p90 ${f(lat.p90, 2)} ms, p99 ${f(lat.p99, 2)} ms, max ${f(lat.max, 2)} ms over ${lat.samples} acks (histogram buckets ±9 %)`,
  `mosquitto: CPU ${f(brokerCpuPercent)} % of one core, RSS ${f(finish.broker.rssKiB / 1024)} MiB`,
  sub
    ? `subscriber (separate process, QoS 1): received ${sub.received} (${f(sub.received / seconds)}/s) from ${sub.nodes} nodes, decode errors ${sub.decodeErrors}, out of order ${sub.outOfOrder}, seq gaps ${sub.gaps}; end-to-end latency p50 ${f(sub.latencyMs.p50, 2)} ms, p90 ${f(sub.latencyMs.p90, 2)} ms, p99 ${f(sub.latencyMs.p99, 2)} ms, max ${f(sub.latencyMs.max, 2)} ms (ms clock resolution); its CPU ${f(sub.cpuPercent)} % of one core`
    : "subscriber: off",
  `clean stop: ${f(stopSeconds, 2)} s (OFFLINE status to every node, confirmed, then DISCONNECT)`,
];
process.stdout.write(`${lines.join("\n")}\n`);

function mosquittoVersion(): string {
  const out = spawnSync("mosquitto", ["-h"], { encoding: "utf8" }).stdout;
  return /version (\S+)/.exec(out)?.[1] ?? "unknown";
}
