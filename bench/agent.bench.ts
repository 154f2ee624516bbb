// Agent footprint: steady RSS and CPU of the agent in its own process (bench/agent-child.ts, real sample
// source) against an in-process aedes, plus bytes per telemetry message as protobuf and as canonical JSON.
// Usage: node bench/agent.bench.ts [--duration 300] [--interval 1000 --interval 5000] [--warmup 15]
//          [--node-flags="--max-semi-space-size=1"]  (flags for the agent process; note the "=")
//          [--child /tmp/k3sf-js/bench/agent-child.js]  (another agent entry, e.g. compiled to JS)
// CPU is the child's utime+stime from /proc/<pid>/stat over the measured window, as % of one core.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { decode, PeerState, parseTopic, toJson, topicsFor } from "../proto/index.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "300" },
    interval: { type: "string", multiple: true, default: ["1000", "5000"] },
    warmup: { type: "string", default: "15" },
    /** V8/Node flags for the agent process, e.g. "--max-semi-space-size=1". */
    "node-flags": { type: "string", default: "" },
    /** The agent entry to run; e.g. a precompiled bench/agent-child.js to measure without type stripping. */
    child: { type: "string", default: join(import.meta.dirname, "agent-child.ts") },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const nodeFlags = values["node-flags"].split(" ").filter(Boolean);
const ROOT = "bench/v1";
const topics = topicsFor(ROOT);
const CLK_TCK = clockTicks();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ProcSample {
  atMs: number;
  cpuTicks: number;
  rssKiB: number;
  /** Proportional set size: shared pages (the node binary) divided among the processes mapping them. */
  pssKiB: number;
  /** Unique set size: pages only this process has (private clean + dirty). */
  ussKiB: number;
}

async function procSample(pid: number): Promise<ProcSample> {
  const [stat, status, smaps] = await Promise.all([
    readFile(`/proc/${pid}/stat`, "utf8"),
    readFile(`/proc/${pid}/status`, "utf8"),
    readFile(`/proc/${pid}/smaps_rollup`, "utf8"),
  ]);
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(smaps)?.[1] ?? 0);
  // Fields after the command name (which may contain spaces) start at state = field 3; utime, stime = 14, 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return {
    atMs: performance.now(),
    cpuTicks,
    rssKiB,
    pssKiB: kib("Pss"),
    ussKiB: kib("Private_Clean") + kib("Private_Dirty"),
  };
}

function clockTicks(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

function stats(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { min: sorted[0] ?? 0, median: at(0.5), max: sorted.at(-1) ?? 0 };
}

async function startBroker() {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** RSS of an idle process after `settleMs`, to separate Node's own footprint from the agent's. */
async function idle(args: string[], settleMs = 3_000): Promise<ProcSample> {
  const child = spawn(process.execPath, [...nodeFlags, ...args], {
    stdio: "ignore",
    cwd: join(import.meta.dirname, ".."),
  });
  await sleep(settleMs);
  const sample = await procSample(child.pid ?? 0);
  child.kill("SIGKILL");
  return sample;
}

async function runOne(brokerUrl: string, intervalMs: number) {
  const stateDir = await mkdtemp(join(tmpdir(), "k3sf-bench-"));
  const nodeId = `bench-${intervalMs}`;
  const watcher = await mqtt.connectAsync(brokerUrl, { protocolVersion: 4 });
  const sizes: { protobuf: number; json: number }[] = [];
  let birthBytes = 0;
  let online = false;
  let offlineReason: string | undefined;
  let measuring = false;
  watcher.on("message", (topic, payload) => {
    const parsed = parseTopic(ROOT, topic);
    if (!parsed.ok || !("nodeId" in parsed.topic) || parsed.topic.nodeId !== nodeId) return;
    if (parsed.topic.kind === "birth") birthBytes = payload.byteLength;
    if (parsed.topic.kind === "nodeStatus") {
      const status = decode("nodeStatus", payload);
      if (status.ok && status.message.state === PeerState.ONLINE) online = true;
      if (status.ok && status.message.state === PeerState.OFFLINE) offlineReason = status.message.reason;
    }
    if (parsed.topic.kind === "telemetry" && measuring) {
      const telemetry = decode("telemetry", payload);
      if (!telemetry.ok) throw new Error(telemetry.detail);
      sizes.push({
        protobuf: payload.byteLength,
        json: Buffer.byteLength(toJson("telemetry", telemetry.message)),
      });
    }
  });
  await watcher.subscribeAsync(topics.filters.allNodes, { qos: 1 });

  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeFlags,
      values.child,
      ...["--url", brokerUrl, "--node-id", nodeId, "--interval", String(intervalMs)],
      ...["--state-dir", stateDir, "--root", ROOT],
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const pid = child.pid ?? 0;
  while (!online) await sleep(50);
  await sleep(warmupS * 1000);

  measuring = true;
  const first = await procSample(pid);
  const memory: ProcSample[] = [first];
  let last = first;
  const end = first.atMs + durationS * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    last = await procSample(pid);
    memory.push(last);
  }
  measuring = false;

  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  await sleep(200);
  await watcher.endAsync();
  await rm(stateDir, { recursive: true, force: true });

  const seconds = (last.atMs - first.atMs) / 1000;
  return {
    intervalMs,
    seconds,
    cpuPercent: ((last.cpuTicks - first.cpuTicks) / CLK_TCK / seconds) * 100,
    rssMiB: stats(memory.map((m) => m.rssKiB / 1024)),
    pssMiB: stats(memory.map((m) => m.pssKiB / 1024)),
    ussMiB: stats(memory.map((m) => m.ussKiB / 1024)),
    messages: sizes.length,
    protobuf: stats(sizes.map((s) => s.protobuf)),
    json: stats(sizes.map((s) => s.json)),
    birthBytes,
    offlineReason,
  };
}

const broker = await startBroker();
const baselineNode = await idle(["-e", "setInterval(() => {}, 1000)"]);
const baselineModules = await idle([
  "-e",
  "import('./agent/agent.ts').then(() => setInterval(() => {}, 1000))",
]);
const results = [];
for (const interval of values.interval.map(Number)) {
  process.stderr.write(`measuring interval ${interval} ms for ${durationS} s (+${warmupS} s warm-up)…\n`);
  results.push(await runOne(broker.url, interval));
}
await broker.close();

const f = (n: number, digits = 1) => n.toFixed(digits);
const mib = (s: ProcSample) =>
  `${f(s.rssKiB / 1024)} MiB (PSS ${f(s.pssKiB / 1024)}, USS ${f(s.ussKiB / 1024)})`;
const lines = [
  `date: ${new Date().toISOString()}  node: ${process.version}  nproc: ${cpus().length}  CLK_TCK: ${CLK_TCK}`,
  `command: node bench/agent.bench.ts --duration ${durationS} ${values.interval.map((i) => `--interval ${i}`).join(" ")} --warmup ${warmupS}${nodeFlags.length > 0 ? ` --node-flags="${nodeFlags.join(" ")}"` : ""}${values.child.endsWith("agent-child.ts") ? "" : ` --child ${values.child}`}`,
  "",
  `idle Node process: RSS ${mib(baselineNode)}; idle Node with the agent's modules loaded (type-stripped .ts): RSS ${mib(baselineModules)}`,
  "",
  "| interval | measured | CPU (% of one core) | RSS MiB min / median / max | PSS MiB median | USS MiB median | telemetry msgs | protobuf bytes min / median / max | JSON bytes median | birth bytes |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...results.map(
    (r) =>
      `| ${r.intervalMs} ms | ${f(r.seconds, 0)} s | ${f(r.cpuPercent, 3)} | ${f(r.rssMiB.min)} / ${f(r.rssMiB.median)} / ${f(r.rssMiB.max)} | ${f(r.pssMiB.median)} | ${f(r.ussMiB.median)} | ${r.messages} | ${r.protobuf.min} / ${r.protobuf.median} / ${r.protobuf.max} | ${r.json.median} | ${r.birthBytes} |`,
  ),
  "",
  `clean stop left OFFLINE with reason: ${results.map((r) => JSON.stringify(r.offlineReason)).join(", ")}`,
];
process.stdout.write(`${lines.join("\n")}\n`);
