// Agent footprint on one machine, side by side with Debian's prometheus-node-exporter in the same run
// (issue 14): steady RSS and CPU at a 1 s interval, disk writes at 5 s, start to first published sample.
// Every process runs at once against one in-process aedes broker with a retained coordinator ONLINE status
// (so buffering agents send), each agent with its own node id and state directory.
//
// Usage: node bench/agent-footprint.bench.ts [--duration 600] [--starts 5] [--before DIR] [--json FILE]
//   --before DIR   also run `node DIR/bin/k3s-fleet.js agent`: an older checkout (e.g. `git archive` of the
//                  commit before issue 14 unpacked to DIR, with node_modules linked) for before/after rows
//   --json FILE    machine-readable results (bench/agent-footprint.json: the DaemonSet test reads it)
// Variants: source = `node bin/k3s-fleet.js agent` (type-stripped .ts, full CLI); bundle =
// `node dist/k3s-fleet-agent.mjs agent`; bundle+flags = the same with AGENT_NODE_FLAGS (what deploy/ runs).
// RSS/PSS from /proc/<pid>/status and smaps_rollup every 5 s; "steady" = median over the last minute;
// CPU = utime+stime over the window; disk = write_bytes from /proc/<pid>/io over the window, per day.
// node_exporter is scraped every 15 s (Prometheus's default interval), as it would be in production.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { createMessage, encode, PeerState, parseTopic, timestamp, topicsFor } from "../proto/index.ts";

/** The V8 flags the deployment runs the bundled agent with (deploy/: systemd unit, image, DaemonSet). */
export const AGENT_NODE_FLAGS = ["--max-semi-space-size=1", "--lite-mode"];

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "600" },
    starts: { type: "string", default: "5" },
    before: { type: "string" },
    json: { type: "string" },
  },
});
const durationS = Number(values.duration);
const REPO = join(import.meta.dirname, "..");
const ROOT = "bench/v1";
const topics = topicsFor(ROOT);
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Variant {
  name: string;
  command: string[];
  kind: "agent" | "node_exporter";
}

function variants(): Variant[] {
  const node = process.execPath;
  const list: Variant[] = [];
  if (values.before) {
    list.push({
      name: "before (as shipped)",
      command: [node, join(values.before, "bin/k3s-fleet.js"), "agent"],
      kind: "agent",
    });
  }
  list.push(
    { name: "source", command: [node, join(REPO, "bin/k3s-fleet.js"), "agent"], kind: "agent" },
    { name: "bundle", command: [node, join(REPO, "dist/k3s-fleet-agent.mjs"), "agent"], kind: "agent" },
    {
      name: "bundle+flags",
      command: [node, ...AGENT_NODE_FLAGS, join(REPO, "dist/k3s-fleet-agent.mjs"), "agent"],
      kind: "agent",
    },
  );
  return list;
}

interface ProcSample {
  atMs: number;
  cpuTicks: number;
  rssKiB: number;
  pssKiB: number;
  writeBytes: number;
}

async function procSample(pid: number): Promise<ProcSample> {
  const [stat, status, smaps, io] = await Promise.all([
    readFile(`/proc/${pid}/stat`, "utf8"),
    readFile(`/proc/${pid}/status`, "utf8"),
    readFile(`/proc/${pid}/smaps_rollup`, "utf8"),
    readFile(`/proc/${pid}/io`, "utf8"),
  ]);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    atMs: performance.now(),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    pssKiB: Number(/^Pss:\s+(\d+)/m.exec(smaps)?.[1] ?? 0),
    writeBytes: Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function startBroker() {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = `mqtt://127.0.0.1:${port}`;
  const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
  // A coordinator "online" since a minute ago: buffering agents send at once, as with a healthy fleet.
  const online = createMessage("coordinatorStatus", {
    state: PeerState.ONLINE,
    instanceId: "bench",
    time: timestamp(Date.now() - 60_000),
  });
  await client.publishAsync(topics.coordinatorStatus, Buffer.from(encode("coordinatorStatus", online)), {
    qos: 1,
    retain: true,
  });
  const firstTelemetry = new Map<string, number>();
  client.on("message", (topic) => {
    const parsed = parseTopic(ROOT, topic);
    if (parsed.ok && parsed.topic.kind === "telemetry" && !firstTelemetry.has(parsed.topic.nodeId)) {
      firstTelemetry.set(parsed.topic.nodeId, performance.now());
    }
  });
  await client.subscribeAsync(topics.filters.allNodes, { qos: 1 });
  return {
    url,
    firstTelemetry,
    async close() {
      await client.endAsync();
      server.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

interface Running {
  variant: Variant;
  label: string;
  child: ChildProcess;
  stateDir: string;
}

async function spawnAgent(
  variant: Variant,
  brokerUrl: string,
  nodeId: string,
  interval: string,
): Promise<Running> {
  const stateDir = await mkdtemp(join(tmpdir(), "k3sf-footprint-"));
  const [cmd = "", ...args] = variant.command;
  const child = spawn(
    cmd,
    [
      ...args,
      ...["--broker", brokerUrl, "--topic-root", ROOT, "--node-name", nodeId, "--interval", interval],
      ...["--state-dir", stateDir, "--log-level", "warn"],
    ],
    { cwd: stateDir, stdio: ["ignore", "ignore", "inherit"] },
  );
  return { variant, label: `${variant.name} @ ${interval}`, child, stateDir };
}

async function stop(r: Running) {
  const exited = new Promise((resolve) => r.child.once("exit", resolve));
  r.child.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  await rm(r.stateDir, { recursive: true, force: true });
}

/** Start to first published sample: spawn → the broker delivers its first telemetry message. */
async function startLatencies(
  broker: Awaited<ReturnType<typeof startBroker>>,
  variant: Variant,
  starts: number,
) {
  const out: number[] = [];
  for (let i = 0; i < starts; i++) {
    const nodeId = `start-${variant.name.replace(/\W+/g, "-")}-${i}`;
    const spawnedAt = performance.now();
    const r = await spawnAgent(variant, broker.url, nodeId, "1s");
    const deadline = spawnedAt + 20_000;
    while (!broker.firstTelemetry.has(nodeId) && performance.now() < deadline) await sleep(5);
    out.push((broker.firstTelemetry.get(nodeId) ?? Number.NaN) - spawnedAt);
    await stop(r);
  }
  return out;
}

const nodeExporterBin = ["/usr/bin/prometheus-node-exporter", "/usr/bin/node_exporter"].find(existsSync);
const broker = await startBroker();
const all = variants();

process.stderr.write(`start to first sample, ${values.starts} starts per variant…\n`);
const starts: Record<string, number[]> = {};
for (const v of all) starts[v.name] = await startLatencies(broker, v, Number(values.starts));

process.stderr.write(`steady state: ${durationS} s, every variant at 1 s and at 5 s, plus node_exporter…\n`);
const running: Running[] = [];
for (const v of all) {
  running.push(await spawnAgent(v, broker.url, `steady-${v.name.replace(/\W+/g, "-")}-1s`, "1s"));
  running.push(await spawnAgent(v, broker.url, `steady-${v.name.replace(/\W+/g, "-")}-5s`, "5s"));
}
let exporter: ChildProcess | undefined;
let scrape: NodeJS.Timeout | undefined;
let exporterVersion = "not installed (apt-get install prometheus-node-exporter)";
if (nodeExporterBin) {
  exporterVersion = execFileSync(nodeExporterBin, ["--version"], { encoding: "utf8" }).split("\n")[0] ?? "";
  const port = 19_100 + Math.floor(Math.random() * 800);
  exporter = spawn(nodeExporterBin, [`--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
  scrape = setInterval(() => {
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => r.text())
      .catch(() => undefined);
  }, 15_000);
}
await sleep(15_000); // warm-up: connected, first births, first filesystem refresh
const watched = [
  ...running.map((r) => ({
    label: r.label,
    pid: r.child.pid ?? 0,
    interval: r.label.endsWith("1s") ? 1 : 5,
  })),
  ...(exporter
    ? [{ label: "prometheus-node-exporter (scraped every 15 s)", pid: exporter.pid ?? 0, interval: 15 }]
    : []),
];
const series = new Map<string, ProcSample[]>(watched.map((w) => [w.label, []]));
const end = performance.now() + durationS * 1000;
while (performance.now() < end) {
  for (const w of watched) series.get(w.label)?.push(await procSample(w.pid));
  await sleep(Math.min(5_000, Math.max(0, end - performance.now())));
}
for (const w of watched) series.get(w.label)?.push(await procSample(w.pid));
clearInterval(scrape);
exporter?.kill("SIGTERM");
await Promise.all(running.map(stop));
await broker.close();

const results = watched.map((w) => {
  const s = series.get(w.label) ?? [];
  const first = s[0] as ProcSample;
  const last = s.at(-1) as ProcSample;
  const seconds = (last.atMs - first.atMs) / 1000;
  const lastMinute = s.filter((x) => x.atMs >= last.atMs - 60_000);
  return {
    label: w.label,
    intervalS: w.interval,
    seconds: Math.round(seconds),
    cpuPercent: ((last.cpuTicks - first.cpuTicks) / CLK_TCK / seconds) * 100,
    steadyRssMiB: median(lastMinute.map((x) => x.rssKiB)) / 1024,
    maxRssMiB: Math.max(...s.map((x) => x.rssKiB)) / 1024,
    steadyPssMiB: median(lastMinute.map((x) => x.pssKiB)) / 1024,
    diskMiBPerDay: (((last.writeBytes - first.writeBytes) / seconds) * 86_400) / 1024 / 1024,
  };
});

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const command = `node bench/agent-footprint.bench.ts --duration ${durationS} --starts ${values.starts}${values.before ? ` --before ${values.before}` : ""}${values.json ? ` --json ${values.json}` : ""}`;
const load = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
const lines = [
  `date: ${new Date().toISOString()}  node: ${process.version}  nproc: ${cpus().length}  load average at the end: ${load}`,
  `command: ${command}`,
  `node_exporter: ${exporterVersion}; agent V8 flags for bundle+flags: ${AGENT_NODE_FLAGS.join(" ")}`,
  "",
  "| process | interval | measured | steady RSS MiB (median, last minute) | max RSS MiB | PSS MiB | CPU % of one core | disk writes MiB/day |",
  "|---|---|---|---|---|---|---|---|",
  ...results.map(
    (r) =>
      `| ${r.label.replace(/ @ \d+s$/, "")} | ${r.intervalS} s | ${r.seconds} s | ${f(r.steadyRssMiB)} | ${f(r.maxRssMiB)} | ${f(r.steadyPssMiB)} | ${f(r.cpuPercent, 3)} | ${f(r.diskMiBPerDay, 2)} |`,
  ),
  "",
  "| variant | start → first published sample, ms (each start) | median |",
  "|---|---|---|",
  ...Object.entries(starts).map(
    ([name, ms]) => `| ${name} | ${ms.map((x) => f(x, 0)).join(", ")} | ${f(median(ms), 0)} |`,
  ),
];
process.stdout.write(`${lines.join("\n")}\n`);
if (values.json) {
  await writeFile(
    values.json,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, command, agentNodeFlags: AGENT_NODE_FLAGS, results, starts }, null, 2)}\n`,
  );
}
