// Hostile-client benchmarks for issue 12, bounded in time and count, loopback only. The broker runs in a
// child process (bench/hostile/broker-child.ts) with a users file at the production scrypt cost.
//
//   node bench/hostile.bench.ts auth-flood [--seconds 20] [--rate 670] [--spread one|users|addresses]
//   node bench/hostile.bench.ts connect-memory [--sockets 6] [--seconds 3.8]
//   node bench/hostile.bench.ts probe-health [--nodes 20000] [--seconds 20] [--scrapers 4] [--max-age 5000]
//
// auth-flood: `rate` CONNECTs per second with wrong credentials for `seconds`; `--spread one` sends them
// all for one unknown user from 127.0.0.1, `users` for a new username each time, `addresses` for a new
// username each time from 250 source addresses (127.0.1.1–250, which defeats per-address bounds). Every
// second a node that never connected before (its own user, so no remembered login helps) connects from
// 127.0.0.2; the time to its CONNACK is recorded. After the flood, one more new node connects: "recovery".
// connect-memory: sockets each announce a 256 MiB CONNECT and then send filler for `seconds`; the child's
// RSS before and after.
// probe-health: a coordinator holding `nodes` nodes (bench/hostile/metrics-child.ts) while `scrapers` loops
// fetch /metrics back to back for `seconds`; /healthz is fetched every 100 ms meanwhile (as a liveness probe
// would, with a 10 s client timeout) and its latencies are reported: what deploy/k3s's probes are sized from.
// `--max-age 0` turns the /metrics cache off (every scrape collects).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import { addUser } from "../coordinator/broker/auth/users.ts";
import { awaitConnack, connectPacket, fixedHeader, writeFiller } from "../test/support/raw-mqtt.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string" },
    rate: { type: "string", default: "670" },
    spread: { type: "string", default: "one" },
    sockets: { type: "string", default: "6" },
    nodes: { type: "string", default: "20000" },
    scrapers: { type: "string", default: "4" },
    "max-age": { type: "string", default: "5000" },
  },
});
const mode = positionals[0];
const NODES = 40;
const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

async function startChild(): Promise<{
  child: ChildProcess;
  port: number;
  ask: () => Promise<Record<string, unknown>>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "k3sf-hostile-bench-"));
  const file = join(dir, "users.yaml");
  for (let i = 0; i <= NODES; i++) await addUser(file, `edge-${i}`, "node", `secret-${i}`);
  const child = spawn(process.execPath, [join(import.meta.dirname, "hostile/broker-child.ts"), file], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const queue: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  lines.on("line", (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queue.push(line);
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const line = queue.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    });
  const { port } = JSON.parse(await next()) as { port: number };
  return {
    child,
    port,
    ask: async () => {
      child.stdin?.write("figures\n");
      return JSON.parse(await next()) as Record<string, unknown>;
    },
  };
}

function open(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: "127.0.0.1", localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Runs bench/hostile/node-child.ts: `count` new nodes, one a second; their connect times. */
function nodesConnect(port: number, first: number, count: number, deadlineMs: number) {
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "hostile/node-child.ts"),
      String(port),
      String(first),
      String(count),
      String(deadlineMs),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const results: Array<{ node: number; ms: number | null; tries: number }> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) =>
    results.push(JSON.parse(line)),
  );
  return new Promise<typeof results>((resolve) => child.once("exit", () => resolve(results)));
}

async function authFlood() {
  const seconds = Number(values.seconds ?? 20);
  const rate = Number(values.rate);
  const spread = values.spread as "one" | "users" | "addresses";
  const { child, port, ask } = await startChild();
  await ask();
  const codes: Record<string, number> = {};
  let sent = 0;
  let openErrors = 0;
  const inFlight = new Set<Socket>();
  const flood = setInterval(() => {
    for (let k = 0; k < rate / 20; k++) {
      const n = sent++;
      const localAddress = spread === "addresses" ? `127.0.1.${1 + (n % 250)}` : "127.0.0.1";
      const username = spread === "one" ? "ghost" : `ghost-${n}`;
      open(port, localAddress).then(
        (s) => {
          inFlight.add(s);
          s.on("error", () => undefined);
          s.write(connectPacket({ clientId: `flood-${n}`, username, password: "wrong" }));
          void awaitConnack(s, 30_000).then((code) => {
            codes[String(code)] = (codes[String(code)] ?? 0) + 1;
            inFlight.delete(s);
            s.destroy();
          });
        },
        () => openErrors++,
      );
    }
  }, 50);
  const floodStarted = performance.now();
  // Nodes start one a second while the flood runs; a node still waiting when the flood ends is counted
  // with its full time.
  const nodes = nodesConnect(port, 1, seconds - 1, 10_000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(flood);
  const floodSeconds = (performance.now() - floodStarted) / 1000;
  const during = await nodes;
  const duringFigures = await ask();
  const [recovery] = await nodesConnect(port, NODES, 1, 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  for (const s of inFlight) s.destroy();
  const after = await ask();
  child.stdin?.write("quit\n");
  const times = during.map((d) => d.ms ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const result = {
    mode: "auth-flood",
    command: `node bench/hostile.bench.ts ${process.argv.slice(2).join(" ")}`,
    loadAverageAtEnd: loadAverage(),
    connectRatePerAddress: Number(process.env.BENCH_CONNECT_RATE ?? 0),
    spread,
    seconds,
    targetRate: rate,
    sent,
    floodSeconds: Math.round(floodSeconds * 10) / 10,
    achievedRate: Math.round(sent / floodSeconds),
    openErrors,
    floodConnacks: codes,
    nodeConnectsDuringFlood: {
      count: times.length,
      within5s: times.filter((ms) => ms <= 5000).length,
      medianMs: String(times[Math.floor(times.length / 2)]),
      maxMs: String(times.at(-1)),
      maxTries: Math.max(...during.map((d) => d.tries)),
    },
    recoveryNodeConnectMs: recovery?.ms ?? null,
    brokerAtFloodEnd: duringFigures,
    brokerAfter: after,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function connectMemory() {
  const seconds = Number(values.seconds ?? 3.8);
  const count = Number(values.sockets);
  const { child, port, ask } = await startChild();
  const before = await ask();
  const sockets = await Promise.all(Array.from({ length: count }, () => open(port)));
  const written = await Promise.all(
    sockets.map(async (s) => {
      s.on("error", () => undefined);
      s.write(fixedHeader(1, 268_435_455));
      const stop = performance.now() + seconds * 1000;
      let total = 0;
      while (!s.destroyed && performance.now() < stop) total += await writeFiller(s, 1024 * 1024);
      return total;
    }),
  );
  const after = await ask();
  child.stdin?.write("quit\n");
  process.stdout.write(
    `${JSON.stringify({ mode: "connect-memory", sockets: count, seconds, bytesWritten: written, before, after }, null, 2)}\n`,
  );
  for (const s of sockets) s.destroy();
}

async function probeHealth() {
  const seconds = Number(values.seconds ?? 20);
  const nodes = Number(values.nodes);
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "hostile/metrics-child.ts"), String(nodes), String(values["max-age"])],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve) => lines.once("line", resolve));
  const { port } = JSON.parse(first) as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const stop = performance.now() + seconds * 1000;
  let scrapes = 0;
  let scrapeErrors = 0;
  let scrapeBytes = 0;
  const scrapeMs: number[] = [];
  const scrapers = Array.from({ length: Number(values.scrapers) }, async () => {
    while (performance.now() < stop) {
      const t = performance.now();
      const text = await fetch(`${base}/metrics`).then(
        (r) => r.text(),
        () => undefined,
      );
      if (text === undefined) {
        scrapeErrors++;
        continue;
      }
      scrapeMs.push(performance.now() - t);
      scrapes++;
      scrapeBytes = text.length;
    }
  });
  const health: number[] = [];
  let failed = 0;
  while (performance.now() < stop) {
    const t = performance.now();
    const ok = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) health.push(performance.now() - t);
    else failed++;
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(scrapers);
  child.stdin?.write("quit\n");
  const sorted = health.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  const scrapeSorted = scrapeMs.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify(
      {
        mode: "probe-health",
        command: `node bench/hostile.bench.ts ${process.argv.slice(2).join(" ")}`,
        loadAverageAtEnd: loadAverage(),
        nodes,
        seconds,
        metricsMaxAgeMs: Number(values["max-age"]),
        scrapes,
        scrapeErrors,
        metricsBytes: scrapeBytes,
        scrapeMedianMs: Math.round(scrapeSorted[Math.floor(scrapeSorted.length / 2)] ?? 0),
        scrapeMaxMs: Math.round(scrapeSorted.at(-1) ?? 0),
        healthProbes: health.length,
        healthFailed: failed,
        healthMs: { p50: at(0.5), p99: at(0.99), max: Math.round(sorted.at(-1) ?? 0) },
      },
      null,
      1,
    )}\n`,
  );
}

if (mode === "auth-flood") await authFlood();
else if (mode === "probe-health") await probeHealth();
else if (mode === "connect-memory") await connectMemory();
else {
  process.stderr.write(
    "usage: node bench/hostile.bench.ts auth-flood|connect-memory|probe-health [options]\n",
  );
  process.exit(2);
}
process.exit(0);
