// The web view at fleet scale: `node bench/web.bench.ts [--nodes 10000] [--interval 5000] [--window 20]
// [--pages 5] [--no-write]`. A coordinator (embedded broker, HTTP, web view) in this process, a feeder of
// N node ids over a few MQTT connections in a child (bench/web-feed-child.ts), headless chromium
// (Debian's) for the pages. Measures, each bounded in time:
//   1. the page's first render of the whole fleet (browser performance timings, ?timing marks);
//   2. the live update cost in the page over a window (per delta: apply; per render: sort/filter + rows);
//   3. the coordinator with 0 pages and with `--pages` pages open: the feeder's PUBLISH→PUBACK p99
//      (the broker shares the coordinator's event loop, so ingest work shows in it), event-loop delay and
//      CPU of this process;
//   4. the server's cost of one live tick (rows + diff + JSON) at this fleet size.
//   5. with --rounds N [--arms 0,1,5]: N rounds of one window per page count (default 0 and --pages), interleaved
//      in rotating order so the machine's drifting load falls on all alike; medians, spread, paired differences.
//   6. the history's memory per node at this fleet size.
// Writes bench/web-results.md unless --no-write. Exits by itself after 10 minutes (plus 1 per round window).
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import pino from "pino";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startCoordinatorService } from "../coordinator/service.ts";
import { slim } from "../coordinator/web/live.ts";
import { countStates, diffRows, FleetRowsBuilder } from "../coordinator/web/rows.ts";
import { BROKER_DEFAULTS, COORDINATOR_DEFAULTS } from "../test/support/defaults.ts";
import { loadAverage, machineFacts } from "./suite/harness.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10000" },
    interval: { type: "string", default: "5000" },
    window: { type: "string", default: "20" },
    pages: { type: "string", default: "5" },
    rounds: { type: "string", default: "0" },
    arms: { type: "string" },
    "no-write": { type: "boolean", default: false },
  },
});
const NODES = Number(values.nodes);
const INTERVAL_MS = Number(values.interval);
const WINDOW_MS = Number(values.window) * 1000;
const PAGES = Number(values.pages);
const ROUNDS = Number(values.rounds);
/** Page counts compared in each round (the first is the baseline), e.g. --arms 0,1,5. */
const ARMS = (values.arms ?? `0,${PAGES}`).split(",").map(Number);
if (ARMS.some((a) => !Number.isInteger(a) || a < 0) || new Set(ARMS).size !== ARMS.length || ARMS.length < 2)
  throw new Error("--arms takes two or more distinct page counts, e.g. 0,1,5");
const BASE = ARMS[0] as number;
const LIFETIME_MS = 600_000 + ROUNDS * 60_000 * ARMS.length;
const ROOT = "bench-web/v1";
const CHROMIUM = "/usr/bin/chromium";
const command = `node bench/web.bench.ts ${process.argv.slice(2).join(" ")}`.trim();
setTimeout(() => {
  process.stderr.write(`web bench: ${LIFETIME_MS / 60_000} minutes passed, giving up\n`);
  process.exit(3);
}, LIFETIME_MS).unref();

/** The browser's performance entries as read inside the page (the project compiles without the DOM library). */
type Entry = { startTime: number; duration: number; detail?: unknown; domContentLoadedEventEnd?: number };
type Perf = { getEntriesByType(type: string): Entry[]; getEntriesByName(name: string): Entry[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0);
const fmt = (v: number, d = 1) => v.toFixed(d);
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);

/** CPU seconds (user + system) used so far by process `root` and its descendants, from /proc (Linux). */
function treeCpuSeconds(root: number | undefined): number {
  if (root === undefined) return 0;
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
      stats.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let ticks = 0;
  for (const [pid, st] of stats) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = stats.get(p)?.ppid) {
      if (p === root) {
        ticks += st.ticks;
        break;
      }
    }
  }
  return ticks / 100; // USER_HZ
}

const loadBefore = loadAverage();
const startedAt = new Date();
const service = await startCoordinatorService({
  // The feeder speaks for many nodes per connection: the per-client publish rate limit (made for one node
  // per connection) is off, or it would drop most of their telemetry.
  embeddedBroker: {
    ...BROKER_DEFAULTS,
    host: "127.0.0.1",
    port: 0,
    maxPacketBytes: 16 << 20,
    refusedPublish: "drop",
    limits: { maxPublishRate: 0 },
  },
  ...COORDINATOR_DEFAULTS,
  brokerUrl: "unused",
  topicRoot: ROOT,
  reportIntervalMs: 30_000,
  staleAfterIntervals: 3,
  offlineAfterIntervals: 12,
  defaultIntervalMs: INTERVAL_MS,
  maxPayloadBytes: 65_536,
  keepaliveSeconds: 30,
  http: { host: "127.0.0.1", port: 0 },
  scheduling: false,
  logger: pino({ level: "warn" }),
});
const base = service.http?.url ?? "";
const sim: ChildProcess = spawn(
  process.execPath,
  [
    new URL("./web-feed-child.ts", import.meta.url).pathname,
    service.broker?.url ?? "",
    String(NODES),
    String(INTERVAL_MS),
    ROOT,
    String(LIFETIME_MS / 1000 - 60),
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
const simLines: Interface = createInterface({ input: sim.stdout as NonNullable<ChildProcess["stdout"]> });
const simReplies: string[] = [];
const waiters: Array<(line: string) => void> = [];
simLines.on("line", (line) => {
  const w = waiters.shift();
  if (w) w(line);
  else simReplies.push(line);
});
const nextLine = () =>
  new Promise<string>((resolve) => {
    const ready = simReplies.shift();
    if (ready !== undefined) resolve(ready);
    else waiters.push(resolve);
  });
const simStats = async () => {
  sim.stdin?.write("stats\n");
  return JSON.parse(await nextLine()) as {
    acks: number;
    p50: number;
    p99: number;
    max: number;
    published: number;
  };
};

let browser: Browser | undefined;
try {
  await nextLine(); // started
  log(`feeding ${NODES} nodes`);
  const fleet = service.coordinator.fleet;
  const deadline = Date.now() + 240_000;
  const reporting = () => [...fleet.nodes.values()].filter((n) => n.latest !== undefined).length;
  while (reporting() < NODES) {
    if (Date.now() > deadline)
      throw new Error(`only ${reporting()} of ${NODES} nodes reporting after 4 minutes`);
    await sleep(1000);
  }
  log(`${reporting()} nodes reporting; warming up 10 s`);
  await sleep(10_000);

  // 4. The server's tick at this size, measured apart (same code as the hub's tick).
  const builder = new FleetRowsBuilder();
  let previous = builder.build(fleet, Date.now());
  const tickMs: number[] = [];
  const tickCpuMs: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(1000);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const rows = builder.build(fleet, Date.now());
    const delta = diffRows(previous, rows);
    const upsert = delta.upsert.map((row) => slim(row, previous.get(row.id)));
    const text = JSON.stringify({ counts: countStates(rows.values()), upsert, remove: delta.remove });
    const used = process.cpuUsage(c0);
    tickMs.push(performance.now() - t0);
    tickCpuMs.push((used.user + used.system) / 1000);
    bytes.push(text.length);
    previous = rows;
  }
  const snapshotBytes = (await (await fetch(`${base}/api/fleet`)).text()).length;
  const nodesAtStart = fleet.nodes.size;
  const reportingAtStart = reporting();

  // 3a. No page open.
  const windowed = async () => {
    await simStats();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu = process.cpuUsage();
    const browserPid = browser?.process()?.pid;
    const browserCpu = treeCpuSeconds(browserPid);
    const applied = fleet.totals.applied;
    await sleep(WINDOW_MS);
    const browserUsed = treeCpuSeconds(browserPid) - browserCpu;
    const appliedPerSecond = (fleet.totals.applied - applied) / (WINDOW_MS / 1000);
    loop.disable();
    const used = process.cpuUsage(cpu);
    const stats = await simStats();
    return {
      ackP50: stats.p50,
      ackP99: stats.p99,
      ackMax: stats.max,
      acks: stats.acks,
      loopP99: loop.percentile(99) / 1e6 - 10,
      loopMax: loop.max / 1e6 - 10,
      cpuPercent: ((used.user + used.system) / 1e3 / WINDOW_MS) * 100,
      browserCpuPercent: (browserUsed / (WINDOW_MS / 1000)) * 100,
      appliedPerSecond,
    };
  };
  log(`window with no page (${WINDOW_MS / 1000} s)`);
  const idle = await windowed();

  // 1. First render, in a fresh browser.
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const open = async (): Promise<Page> => {
    const page = await (browser as Browser).newPage();
    await page.setViewport({ width: 1500, height: 900 });
    await page.evaluateOnNewDocument(() => {
      const w = globalThis as unknown as { __long: Array<{ start: number; duration: number }> };
      w.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__long.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: "longtask", buffered: true } as never);
    });
    await page.goto(`${base}/?timing`);
    await page.waitForFunction(() => performance.getEntriesByName("k3sf:fleet-first-render").length > 0, {
      timeout: 180_000,
      polling: 50,
    });
    return page;
  };
  log("opening page 1 (first render)");
  const first = await open();
  const firstRender = await first.evaluate(() => {
    const perf = performance as unknown as Perf;
    const nav = perf.getEntriesByType("navigation")[0] as Entry;
    const mark = perf.getEntriesByName("k3sf:fleet-first-render")[0] as Entry;
    const renders = perf.getEntriesByName("k3sf:fleet-render");
    const firstFull = renders.find((r) => (r.detail as number) > 0);
    const long = (globalThis as unknown as { __long: Array<{ start: number; duration: number }> }).__long;
    return {
      domContentLoaded: nav.domContentLoadedEventEnd ?? 0,
      firstRenderAt: mark.startTime,
      rows: mark.detail as number,
      firstRenderMs: firstFull?.duration ?? 0,
      longTasks: long.filter((l) => l.start <= mark.startTime).map((l) => l.duration),
    };
  });
  const domRows = await first.$$eval(".row", (rows) => rows.length);
  const pages: Page[] = [first];
  for (let i = 1; i < PAGES; i++) pages.push(await open());
  // Background tabs get no animation frames: measure in the one in front, the others still stream.
  await first.bringToFront();
  await first.evaluate(() => {
    performance.clearMeasures();
    (globalThis as unknown as { __long: unknown[] }).__long = [];
  });

  // 2 + 3b. PAGES pages open.
  log(`window with ${PAGES} pages (${WINDOW_MS / 1000} s)`);
  const busy = await windowed();
  const live = await first.evaluate(() => {
    const pick = (name: string) =>
      (performance as unknown as Perf).getEntriesByName(name).map((m) => ({
        d: m.duration,
        n: m.detail as number,
      }));
    const long = (globalThis as unknown as { __long: Array<{ duration: number }> }).__long;
    const heap =
      (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    return {
      deltas: pick("k3sf:delta"),
      renders: pick("k3sf:fleet-render"),
      longTasks: long.map((l) => l.duration),
      heap,
    };
  });
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const deltaMs = sorted(live.deltas.map((d) => d.d));
  const renderMs = sorted(live.renders.map((r) => r.d));
  const upserts = sorted(live.deltas.map((d) => d.n));
  const facts = machineFacts();
  const loadAfter = loadAverage();
  const chromium = (await browser.version()).replace(/^(Headless)?Chrome\//, "");

  // 5. Interleaved rounds: each round one window per arm (page count), the order rotated every round and
  // reversed every other (0 1 5, 5 1 0, 1 5 0, 0 5 1, …) so a drift in the machine's load falls on all alike.
  type Window = Awaited<ReturnType<typeof windowed>>;
  const rounds: Array<{ round: number; pages: number; w: Window }> = [];
  const settle = () => sleep(3000);
  for (let r = 1; r <= ROUNDS; r++) {
    const k = Math.floor((r - 1) / 2) % ARMS.length;
    const rotated = [...ARMS.slice(k), ...ARMS.slice(0, k)];
    for (const count of r % 2 === 1 ? rotated : rotated.reverse()) {
      while (pages.length > count) await pages.pop()?.close();
      while (pages.length < count) pages.push(await open());
      await pages[0]?.bringToFront();
      await settle();
      log(`round ${r}: window with ${count} pages (${WINDOW_MS / 1000} s)`);
      rounds.push({ round: r, pages: count, w: await windowed() });
    }
  }
  const median = (xs: number[]) => {
    const v = sorted(xs);
    const m = v.length >> 1;
    return v.length === 0 ? 0 : v.length % 2 ? (v[m] ?? 0) : ((v[m - 1] ?? 0) + (v[m] ?? 0)) / 2;
  };
  const spread = (xs: number[]) => `${fmt(Math.min(...xs), 1)} to ${fmt(Math.max(...xs), 1)}`;
  const of = (count: number, pick: (w: Window) => number) =>
    rounds.filter((x) => x.pages === count).map((x) => pick(x.w));
  const paired = (arm: number, pick: (w: Window) => number) =>
    Array.from({ length: ROUNDS }, (_, i) => {
      const inRound = rounds.filter((x) => x.round === i + 1);
      const a = inRound.find((x) => x.pages === BASE);
      const b = inRound.find((x) => x.pages === arm);
      return a && b ? pick(b.w) - pick(a.w) : 0;
    });
  const cellOf = (xs: number[], unit: string) =>
    `${fmt(median(xs), 1)}${unit ? ` ${unit}` : ""} (${spread(xs)})`;
  const others = ARMS.slice(1);
  const figures: Array<[string, (w: Window) => number, string]> = [
    ["PUBACK p99", (w) => w.ackP99, "ms"],
    ["PUBACK p50", (w) => w.ackP50, "ms"],
    ["event-loop delay p99", (w) => w.loopP99, "ms"],
    ["coordinator process CPU", (w) => w.cpuPercent, "%"],
    ["chromium CPU (all its processes)", (w) => w.browserCpuPercent, "%"],
    ["telemetry applied/s", (w) => w.appliedPerSecond, ""],
  ];
  const roundsSection =
    ROUNDS === 0
      ? ""
      : `
## Ingest with ${ARMS.join(", ")} pages open, interleaved: ${ROUNDS} rounds of ${WINDOW_MS / 1000} s windows

Each round measures one window per page count (pages open: the first in front, the others streaming in
background tabs), in an order rotated every round and reversed every other round, so a drift in the machine's
load (other sessions) falls on all alike; pages are opened or closed 3 s before a window. "Paired difference" is
(N pages − ${BASE} pages) within each round: its median and range say whether the pages move a figure more than
the machine moves it by itself. Chromium runs on the same 2 cores as the coordinator and its feeder, so its CPU
is listed too.

Medians over the rounds (min to max):

| figure | ${ARMS.map((a) => `${a} pages`).join(" | ")} | ${others.map((a) => `paired difference ${a} − ${BASE} pages`).join(" | ")} |
|---|${ARMS.map(() => "---|").join("")}${others.map(() => "---|").join("")}
${figures
  .map(
    ([name, pick, unit]) =>
      `| ${name} | ${ARMS.map((a) => cellOf(of(a, pick), unit)).join(" | ")} | ${others.map((a) => cellOf(paired(a, pick), unit)).join(" | ")} |`,
  )
  .join("\n")}

Every window, in the order run:

| round | pages | PUBACK p50 | PUBACK p99 | PUBACK max | acks | event-loop delay p99 | CPU | chromium CPU |
|---|---|---|---|---|---|---|---|---|
${rounds
  .map(
    (x) =>
      `| ${x.round} | ${x.pages} | ${fmt(x.w.ackP50, 2)} ms | ${fmt(x.w.ackP99, 2)} ms | ${fmt(x.w.ackMax, 1)} ms | ${x.w.acks} | ${fmt(x.w.loopP99)} ms | ${fmt(x.w.cpuPercent)} % | ${fmt(x.w.browserCpuPercent)} % |`,
  )
  .join("\n")}
`;

  // 6. History memory per node (typed arrays; the per-node Map entry and object headers are not counted).
  const histories = [...service.coordinator.history.nodes.values()];
  const historyBytes = histories.reduce((sum, h) => sum + h.bytes, 0);
  const perNode = histories.length === 0 ? 0 : historyBytes / histories.length;

  const md = `# Web view at fleet scale

Command: \`${command}\` (defaults: \`--nodes 10000 --interval 5000 --window 20 --pages 5\`).
Run ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC on ${facts.nproc} vCPU (${facts.cpuModel}), ${fmt(facts.memGiB)} GiB,
Node ${process.version}, Chromium ${chromium} (Debian, headless). Load average before ${loadBefore}, after ${loadAfter}:
this machine is shared with other sessions, so times move with their load; treat them as orders of magnitude.

Setup: the coordinator with its embedded broker, HTTP listener and web view in the bench process; ${NODES} node
ids fed by a child process over 8 MQTT connections (births, ONLINE statuses, then telemetry every
${INTERVAL_MS / 1000} s per node, spread evenly: about ${Math.round(NODES / (INTERVAL_MS / 1000))} telemetry messages/s, QoS 1, with the broker's
per-client publish rate limit off since each connection speaks for many nodes; ${reportingAtStart} of ${nodesAtStart} nodes
reporting when measuring began). Not 10,000 sockets: on this shared, loaded machine the simulator's 10,000
connections did not all come up within 4 minutes (its own benchmark is bench/simulator-results.md). Pages in headless chromium at 1500×900, opened with \`?timing\` so the page records
\`performance\` marks and measures (\`k3sf:fleet-first-render\`, \`k3sf:fleet-render\`, \`k3sf:delta\`).

## First render of the fleet page

| figure | value |
|---|---|
| snapshot size (\`/api/fleet\`, same rows as the stream's snapshot) | ${fmt(snapshotBytes / 1024 / 1024, 2)} MiB |
| DOMContentLoaded | ${fmt(firstRender.domContentLoaded)} ms |
| first render with all ${firstRender.rows} rows, from navigation start | ${fmt(firstRender.firstRenderAt)} ms |
| that render itself (sort + filter ${firstRender.rows} rows, fill the visible ones) | ${fmt(firstRender.firstRenderMs)} ms |
| row elements in the DOM (virtualised) | ${domRows} |
| long tasks (> 50 ms) before the first render | ${firstRender.longTasks.length} (${firstRender.longTasks.map((d) => fmt(d, 0)).join(", ") || "none"} ms) |

## Live updates in one page, ${WINDOW_MS / 1000} s with ${PAGES} pages open

| figure | p50 | p99 | max | count |
|---|---|---|---|---|
| rows per delta | ${q(upserts, 0.5)} | ${q(upserts, 0.99)} | ${upserts.at(-1) ?? 0} | ${upserts.length} deltas |
| applying a delta (JSON parsed by EventSource before) | ${fmt(q(deltaMs, 0.5), 2)} ms | ${fmt(q(deltaMs, 0.99), 2)} ms | ${fmt(deltaMs.at(-1) ?? 0, 2)} ms | ${deltaMs.length} |
| fleet render (re-sort ${NODES} rows, fill visible) | ${fmt(q(renderMs, 0.5), 2)} ms | ${fmt(q(renderMs, 0.99), 2)} ms | ${fmt(renderMs.at(-1) ?? 0, 2)} ms | ${renderMs.length} |

Long tasks (> 50 ms) in the window: ${live.longTasks.length}${
    live.longTasks.length
      ? ` (${sorted(live.longTasks)
          .map((d) => fmt(d, 0))
          .join(", ")} ms)`
      : ""
  }. JS heap used at the end: ${fmt(live.heap / 1024 / 1024)} MiB.

## The coordinator with and without pages

Server tick at ${NODES} nodes (rows + diff + JSON, measured apart in one piece, 10 ticks a second apart; the hub
runs the same work in slices of 1,000 nodes and 500 rows with the event loop free in between): CPU time p50
${fmt(q(sorted(tickCpuMs), 0.5))} ms, max ${fmt(Math.max(...tickCpuMs))} ms; wall time p50 ${fmt(q(sorted(tickMs), 0.5))} ms, max ${fmt(Math.max(...tickMs))} ms (wall includes the time this
process waited for a core on the loaded machine); delta JSON p50 ${fmt(q(sorted(bytes), 0.5) / 1024)} KiB per tick (written once per tick, the same text to every page).

| window (${WINDOW_MS / 1000} s) | PUBACK p50 | PUBACK p99 | PUBACK max | acks | telemetry applied/s | event-loop delay p99 | max | coordinator process CPU |
|---|---|---|---|---|---|---|---|---|
| no page | ${fmt(idle.ackP50, 2)} ms | ${fmt(idle.ackP99, 2)} ms | ${fmt(idle.ackMax, 1)} ms | ${idle.acks} | ${fmt(idle.appliedPerSecond, 0)} | ${fmt(idle.loopP99)} ms | ${fmt(idle.loopMax)} ms | ${fmt(idle.cpuPercent)} % |
| ${PAGES} pages | ${fmt(busy.ackP50, 2)} ms | ${fmt(busy.ackP99, 2)} ms | ${fmt(busy.ackMax, 1)} ms | ${busy.acks} | ${fmt(busy.appliedPerSecond, 0)} | ${fmt(busy.loopP99)} ms | ${fmt(busy.loopMax)} ms | ${fmt(busy.cpuPercent)} % |

PUBACK is the feeder's PUBLISH → PUBACK round trip for telemetry (QoS 1): the embedded broker runs on the
coordinator's event loop, so time the web view takes from ingest shows up there. Event-loop delay is this
process's (\`monitorEventLoopDelay\`, 10 ms resolution, minus the 10 ms). CPU is this process's (coordinator,
broker, web view) as % of one core; the browser's CPU is not in it.
${roundsSection}
## History memory

The coordinator's per-node history (CPU, memory, fullest disk, network rx and tx; raw points for 5 minutes, one
min/avg/max bucket per minute for an hour; fixed-size typed arrays that never grow): ${fmt(perNode, 0)} bytes per node
at a ${INTERVAL_MS / 1000} s sampling interval, ${fmt(historyBytes / 1024 / 1024, 1)} MiB for ${histories.length} nodes.
`;
  process.stdout.write(md);
  if (!values["no-write"]) writeFileSync(new URL("./web-results.md", import.meta.url), md);
} finally {
  await browser?.close().catch(() => undefined);
  sim.stdin?.write("stop\n");
  await Promise.race([new Promise((r) => sim.once("exit", r)), sleep(15_000)]);
  sim.kill("SIGKILL");
  await service.stop();
}
