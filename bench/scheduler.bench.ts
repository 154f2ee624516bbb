// Scheduling engine throughput: decisions per second and per-decision latency on fleets of 1,000 and
// 5,000 nodes with 30 pods each, every feasible node scored. A plain script, not a vitest bench:
//   node bench/scheduler.bench.ts [--quick]
// The "affinity mix" rows use a fleet where 20 % of the bound pods carry required hostname
// anti-affinity against their own app, and incoming pods of which 20 % carry the same anti-affinity
// plus a DoNotSchedule zone spread constraint (InterPodAffinity and PodTopologySpread on every node).
// Data comes from a seeded PRNG, so every run measures the same fleets and pods.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  buildSnapshot,
  createAssumeCache,
  DEFAULT_SCHEDULER_CONFIG,
  type Pod,
  schedule,
} from "../coordinator/scheduler/index.ts";
import { fleet, incomingPods, PODS_PER_NODE } from "./scheduler-fleet.ts";

const quick = process.argv.includes("--quick");

interface Row {
  nodes: number;
  mode: string;
  decisions: number;
  perSecond: number;
  p50: number;
  p99: number;
  perCpuSecond: number;
  feasible: number;
  /** Share of decisions that placed the pod. */
  scheduled: number;
  buildMs: number;
  firstMs: number;
}

const quantile = (sorted: Float64Array, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

function run(nodes: number, decisions: number, assume: boolean, affinity: boolean): Row {
  const input = fleet(nodes, 42, affinity);
  const t0 = performance.now();
  const snapshot = buildSnapshot({ nodes: input, takenAt: 0 });
  const buildMs = performance.now() - t0;
  const pods = incomingPods(256, 7, affinity);
  const cache = createAssumeCache(DEFAULT_SCHEDULER_CONFIG);
  // The first decision also builds the spread index of the fleet's app labels (spread-index.ts).
  const t1 = performance.now();
  schedule(snapshot, pods[0] as Pod, DEFAULT_SCHEDULER_CONFIG, 1_000);
  const firstMs = performance.now() - t1;
  const warmup = Math.min(300, decisions);
  for (let i = 1; i < warmup; i++)
    schedule(snapshot, pods[i % pods.length] as Pod, DEFAULT_SCHEDULER_CONFIG, 1_000);
  const times = new Float64Array(decisions);
  let feasible = 0;
  let scheduled = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < decisions; i++) {
    const pod = pods[i % pods.length] as Pod;
    const now = 1_000 + i;
    const t = performance.now();
    const d = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, now);
    if (assume && d.node !== undefined) {
      cache.assume(snapshot, { ...pod, metadata: { ...pod.metadata, name: `assumed-${i}` } }, d.node, now);
    }
    times[i] = performance.now() - t;
    feasible += d.feasible;
    if (d.status === "scheduled") scheduled++;
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  times.sort();
  return {
    nodes,
    mode: `${assume ? "schedule + assume" : "schedule"}${affinity ? ", affinity mix" : ""}`,
    decisions,
    perSecond: (decisions / elapsed) * 1000,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    perCpuSecond: (decisions / cpuMs) * 1000,
    feasible: feasible / decisions,
    scheduled: scheduled / decisions,
    buildMs,
    firstMs,
  };
}

const plan: Array<[number, number, boolean, boolean]> = quick
  ? [
      [1000, 1000, false, false],
      [5000, 400, false, false],
      [5000, 400, false, true],
    ]
  : [
      [1000, 5000, false, false],
      [1000, 5000, true, false],
      [5000, 2000, false, false],
      [5000, 2000, true, false],
      [5000, 2000, false, true],
      [5000, 2000, true, true],
    ];

// The machine is shared, so the load average is printed with the figures: wall-clock rates drop when
// other processes take the CPU, while decisions per CPU-second (this process's user + system time,
// GC threads included) do much less.
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const loadBefore = load();
const rows = plan.map(([nodes, decisions, assume, affinity]) => run(nodes, decisions, assume, affinity));
console.log(
  `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${PODS_PER_NODE} pods per node, ${quick ? "quick" : "full"} run`,
);
console.log(`load average before: ${loadBefore}, after: ${load()}`);
console.log("");
console.log(
  "| nodes | mode | decisions | decisions/s | p50 ms | p99 ms | decisions per CPU-s | avg feasible nodes | scheduled % | snapshot build ms | first decision ms |",
);
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.nodes} | ${r.mode} | ${r.decisions} | ${Math.round(r.perSecond)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${Math.round(r.perCpuSecond)} | ${Math.round(r.feasible)} | ${(100 * r.scheduled).toFixed(1)} | ${Math.round(r.buildMs)} | ${r.firstMs.toFixed(1)} |`,
  );
}
