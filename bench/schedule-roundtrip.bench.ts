// MQTT schedule request → decision reply round trip, including pod create + bind against the fake API
// server, on a 500-node cluster. A plain script, not a vitest bench:
//   node bench/schedule-roundtrip.bench.ts [--requests 1000] [--nodes 500] [--warmup 100] [--no-nagle]
//
// Two processes, as in production: this one runs the coordinator service (embedded aedes broker, cluster
// view with informers, the scheduling service) and the requesting MQTT client; a child process runs the
// fake Kubernetes API server (HTTPS, real client-node on our side). Requests are sent one at a time: the
// figure is the latency one client sees, publish → reply, for requests that each create and bind a pod.
//
// --no-nagle turns Nagle's algorithm off on every TCP socket of this process (broker side and clients),
// which the embedded broker (coordinator/broker/broker.ts) and mqtt/link.ts do not do yet: with it on, each
// request/response hop over MQTT waits for a delayed ACK (~40 ms on Linux). See bench/schedule-results.md.
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { BROKER_DEFAULTS, COORDINATOR_DEFAULTS } from "../test/support/defaults.ts";
import { testSchedulingSettings } from "../test/support/scheduling-settings.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg("requests", 1000);
const NODES = arg("nodes", 500);
const WARMUP = arg("warmup", 100);
/** Pods already bound on every node before the run (they count in every snapshot build). */
const PODS_PER_NODE = arg("pods-per-node", 4);
const NO_NAGLE = process.argv.includes("--no-nagle");
/** Diagnosis: decide only (no pod create, no bind), to see what the Kubernetes calls cost. */
const DRY_RUN = process.argv.includes("--dry-run");

interface Ready {
  kubeconfigPath: string;
}
interface Counts {
  podCreates: number;
  bindings: number;
  bindingStatuses: Record<string, number>;
  events: number;
  boundOurs: number;
}

// --- child: the fake API server ---------------------------------------------------------------------
async function serveApi(): Promise<void> {
  const { makeNode, makePod, startFakeApiServer } = await import("../test/fake-apiserver/index.ts");
  const api = await startFakeApiServer({ historyLimit: 100_000 });
  for (let i = 0; i < NODES; i++) {
    const name = `node-${String(i).padStart(3, "0")}`;
    api.addNode(makeNode({ name, cpu: ["4", "8", "16"][i % 3], memory: ["8Gi", "16Gi", "32Gi"][i % 3] }));
    for (let j = 0; j < PODS_PER_NODE; j++) {
      api.addPod(
        makePod({
          name: `${name}-existing-${j}`,
          nodeName: name,
          labels: { app: `app-${j}` },
          requests: { cpu: "100m", memory: "128Mi" },
        }),
      );
    }
  }
  process.send?.({ kubeconfigPath: api.kubeconfigPath } satisfies Ready);
  process.on("message", (msg: string) => {
    if (msg === "counts") {
      const requests = api.requests();
      const bindings = requests.filter((r) => r.method === "POST" && r.path.endsWith("/bindings"));
      const statuses: Record<string, number> = {};
      for (const b of bindings) statuses[b.status] = (statuses[b.status] ?? 0) + 1;
      const ours = api
        .listPods("default")
        .filter((p) => (p.spec as { schedulerName?: string }).schedulerName === "k3s-fleet");
      process.send?.({
        podCreates: requests.filter((r) => r.method === "POST" && r.path.endsWith("/pods")).length,
        bindings: bindings.length,
        bindingStatuses: statuses,
        events: api.events("default").length,
        boundOurs: ours.filter((p) => (p.spec as { nodeName?: string }).nodeName).length,
      } satisfies Counts);
    } else if (msg === "exit") {
      void api.close().then(() => process.exit(0));
    }
  });
}

// --- parent: coordinator + client ----------------------------------------------------------------------
const pct = (sorted: number[], p: number): number =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;

async function main(): Promise<void> {
  const { startCoordinatorService } = await import("../coordinator/service.ts");
  const { connectRequester, scheduleRequest } = await import("../test/support/placement.ts");
  const { DecisionStatus, topicsFor } = await import("../proto/index.ts");

  const child = fork(fileURLToPath(import.meta.url), ["--serve-api", ...process.argv.slice(2)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<Ready>((resolve) => child.once("message", (m) => resolve(m as Ready)));
  const ask = () =>
    new Promise<Counts>((resolve) => {
      child.once("message", (m) => resolve(m as Counts));
      child.send("counts");
    });

  const dir = await mkdtemp(join(tmpdir(), "k3s-fleet-bench-"));
  const root = topicsFor().root;
  const setupStart = performance.now();
  const service = await startCoordinatorService({
    embeddedBroker: {
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1 << 24,
      refusedPublish: "drop",
      // The default per-client publish rate (50/s) is for agents; this client is a load generator.
      limits: { maxPublishRate: 1_000_000, publishBurst: 1_000_000 },
    },
    ...COORDINATOR_DEFAULTS,
    brokerUrl: "unused",
    topicRoot: root,
    reportIntervalMs: 3_600_000,
    staleAfterIntervals: 3,
    offlineAfterIntervals: 12,
    defaultIntervalMs: 5000,
    maxPayloadBytes: 65536,
    keepaliveSeconds: 30,
    kubernetes: {
      kubeconfigPath: ready.kubeconfigPath,
      env: {},
      connectTimeoutMs: 10_000,
      metricsIntervalMs: 0,
    },
    // Throughput is measured, not the per-requester rate bound (one requester sends every request).
    scheduling: testSchedulingSettings({
      storePath: join(dir, "scheduling.sqlite"),
      quota: { requestsPerMinute: 0, cpuMillis: 0, memoryBytes: 0 },
    }),
    logger: pino({ level: "warn" }),
  });
  const synced = () => service.cluster?.synced() && service.cluster.nodes().length === NODES;
  while (!synced()) await new Promise((r) => setTimeout(r, 20));
  const setupMs = performance.now() - setupStart;
  const client = await connectRequester(service.broker?.url ?? "", root);

  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const cpuStart = process.cpuUsage();
  let wallStart = 0;
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    if (i === WARMUP) wallStart = performance.now();
    const request = scheduleRequest(root, client.clientId, {
      podName: `bench-${i}`,
      labels: { app: `bench-${i % 20}` },
      cpuRequest: "100m",
      memoryRequest: "64Mi",
      dryRun: DRY_RUN,
    });
    const t0 = performance.now();
    const decision = await client.request(request, 30_000);
    const ms = performance.now() - t0;
    if (i < WARMUP) continue;
    latencies.push(ms);
    const status = DecisionStatus[decision.status];
    outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
  }
  const wallMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  await service.scheduling?.idle();
  await new Promise((r) => setTimeout(r, 500)); // let the informer catch up before counting
  const counts = await ask();
  const summary = service.scheduling?.summary();
  const builds = service.scheduling?.snapshotBuilds();

  latencies.sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    loadavg1m: loadavg()[0]?.toFixed(2),
    nodes: NODES,
    existingPods: NODES * PODS_PER_NODE,
    warmup: WARMUP,
    requests: REQUESTS,
    dryRun: DRY_RUN,
    noNagle: NO_NAGLE,
    setupMs: Math.round(setupMs),
    p50Ms: pct(latencies, 0.5).toFixed(2),
    p90Ms: pct(latencies, 0.9).toFixed(2),
    p99Ms: pct(latencies, 0.99).toFixed(2),
    maxMs: (latencies.at(-1) ?? 0).toFixed(2),
    meanMs: (latencies.reduce((a, b) => a + b, 0) / latencies.length).toFixed(2),
    throughputPerSec: ((REQUESTS / wallMs) * 1000).toFixed(1),
    coordinatorCpuMsPerRequest: ((cpu.user + cpu.system) / 1000 / REQUESTS).toFixed(2),
    outcomes: Object.fromEntries(outcomes),
    snapshotBuilds: builds,
    apiServer: counts,
    serviceDecisionLatency: summary && { p50Ms: summary.latencyP50Ms, p99Ms: summary.latencyP99Ms },
  };
  console.log(JSON.stringify(result, null, 2));

  await client.close();
  await service.stop();
  child.send("exit");
  await rm(dir, { recursive: true, force: true });
}

/** TCP_NODELAY on every socket this process connects or accepts (before any broker or client module loads). */
function disableNagle(): void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    this.setNoDelay(true);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  const createServer = net.createServer;
  (net as { createServer: typeof net.createServer }).createServer = ((...args: unknown[]) => {
    const server = (createServer as (...a: unknown[]) => net.Server)(...args);
    server.on("connection", (socket: net.Socket) => socket.setNoDelay(true));
    return server;
  }) as typeof net.createServer;
  syncBuiltinESMExports();
}

if (process.argv.includes("--serve-api")) await serveApi();
else {
  if (NO_NAGLE) disableNagle();
  await main();
}
