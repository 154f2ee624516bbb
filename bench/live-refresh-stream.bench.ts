// Decision latency while the fleet streams telemetry (issue 13, "the cluster view"):
//   node bench/live-refresh-stream.bench.ts [--nodes 10000] [--seconds 10] [--gap-ms 2]
// In process, on simulated time: N agents (one per Kubernetes node of the seeded fleet of
// scheduler-fleet.ts, 30 bound pods each) report telemetry once a second, staggered, into a real
// FleetState (fleet/state.ts applyTelemetry) and tell the snapshot cache (liveChanged, as the placement
// service does on each telemetry message); every 100 ms of fleet time someone else binds a pod and
// deletes an earlier one (podChanged). One decision every `gap` ms of fleet time goes through the
// cache as the coordinator's do: SnapshotCache.get(now) (apply the marked live signals, refreshLive)
// then Scheduler.evaluate. Measured per decision: get + evaluate, wall clock. Ingest (applyTelemetry +
// liveChanged) is timed separately. The first second of fleet time is warm-up. Besides wall clock, the
// CPU time of each decision is taken (process.cpuUsage), which leaves out preemption by other processes
// on a shared machine (but counts GC helper threads). No MQTT, no broker, no Kubernetes API.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { liveByNodeName } from "../coordinator/fleet/live.ts";
import { applyBirth, applyTelemetry, createFleet, nodeFor } from "../coordinator/fleet/state.ts";
import { createLiveReader } from "../coordinator/placement/live-reader.ts";
import { createSnapshotCache } from "../coordinator/placement/snapshot-cache.ts";
import { buildSnapshot, createScheduler, type NodeInput, type Pod } from "../coordinator/scheduler/index.ts";
import { createRng } from "../simulator/rng.ts";
import { FLEET_DEFAULTS } from "../test/support/defaults.ts";
import { birth, telemetry } from "../test/support/fleet-messages.ts";
import { makePod } from "../test/support/scheduler.ts";
import { incomingPods, fleet as seededFleet } from "./scheduler-fleet.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = option("--nodes", 10_000);
const SECONDS = option("--seconds", 10);
const GAP_MS = option("--gap-ms", 2);
const INTERVAL_MS = 1000;
const SNAPSHOT_MAX_AGE_MS = 10_000; // scheduling.snapshotMaxAge's default

const loadBefore = loadavg().map((x) => x.toFixed(2));
const rng = createRng(11);
let now = 1_000_000;

// The Kubernetes side: the seeded fleet's nodes and pods, without its canned live signals.
const cluster = seededFleet(N, 42, false).map(({ node, pods }) => ({ node, pods: [...(pods ?? [])] }));
const names = cluster.map((c) => c.node.metadata.name);

// The agents: one per node, k8sNodeName = node name, 1 s interval.
const fleetState = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: INTERVAL_MS });
const seq = new Array<number>(N).fill(1);
for (const name of names) {
  applyBirth(nodeFor(fleetState, name, now), birth({ session: 1, nodeId: name, timeMs: now }), now);
  applyTelemetry(
    fleetState,
    nodeFor(fleetState, name, now),
    telemetry({ session: 1, seq: 1, timeMs: now }),
    now,
  );
}

const scheduler = createScheduler({ config: { live: { staleAfterIntervals: 3 } } });
const reader = createLiveReader(fleetState);
let sourceMs = 0;
const cache = createSnapshotCache({
  assumed: scheduler.assumed,
  maxAgeMs: SNAPSHOT_MAX_AGE_MS,
  build: buildSnapshot,
  source: (at): NodeInput[] => {
    const t = performance.now();
    reader.reset();
    const live = liveByNodeName(fleetState, at);
    const inputs = cluster.map(({ node, pods }) => {
      const signals = live.get(node.metadata.name);
      return signals === undefined ? { node, pods } : { node, pods, live: signals };
    });
    sourceMs += performance.now() - t;
    return inputs;
  },
  live: (at) => reader.at(at),
});

const incoming = incomingPods(256, 7, false);
const sample = telemetry({ session: 1, seq: 1, timeMs: now });
const t0 = performance.now();
cache.get(now);
const firstBuildMs = performance.now() - t0;

// The first second of fleet time warms up (JIT) and is not measured.
const warmup = Math.round(1000 / GAP_MS);
const steps = warmup + Math.round((SECONDS * 1000) / GAP_MS);
const latency = new Float64Array(steps - warmup);
/** CPU time of the decision (user + system of this process, µs resolution): latency without preemption. */
const cpuTime = new Float64Array(steps - warmup);
let ingestMs = 0;
let events = 0;
let podEvents = 0;
let scheduled = 0;
const theirs: Array<[number, Pod]> = [];
for (let step = 0; step < steps; step++) {
  now += GAP_MS;
  // The agents whose turn it is report (each once per INTERVAL_MS, staggered).
  const from = Math.floor((step * GAP_MS * N) / INTERVAL_MS);
  const to = Math.floor(((step + 1) * GAP_MS * N) / INTERVAL_MS);
  const a = performance.now();
  for (let i = from; i < to; i++) {
    const k = i % N;
    const name = names[k] as string;
    seq[k] = (seq[k] as number) + 1;
    sample.seq = BigInt(seq[k] as number);
    (sample.cpu as { usagePercent: number }).usagePercent = rng.next() * 90;
    applyTelemetry(fleetState, nodeFor(fleetState, name, now), sample, now);
    cache.liveChanged(name);
    events++;
  }
  // Someone else binds a pod every 100 ms of fleet time, and deletes the one bound 1 s before; the
  // informer cache (what a full build reads) holds them too.
  if ((step * GAP_MS) % 100 === 0) {
    const at = Math.floor(rng.next() * N);
    const pod = makePod(`other-${step}`, {
      uid: `other-${step}`,
      nodeName: names[at] as string,
      requests: [{ cpu: "100m", memory: "128Mi" }],
    });
    cluster[at]?.pods.push(pod);
    cache.podChanged("add", pod);
    theirs.push([at, pod]);
    const old = theirs.length > 10 ? theirs.shift() : undefined;
    if (old !== undefined) {
      const pods = cluster[old[0]]?.pods ?? [];
      pods.splice(pods.indexOf(old[1]), 1);
      cache.podChanged("delete", old[1]);
    }
    podEvents++;
  }
  ingestMs += performance.now() - a;

  const c = process.cpuUsage();
  const t = performance.now();
  const d = scheduler.evaluate(cache.get(now), incoming[step % incoming.length] as Pod, now);
  const wall = performance.now() - t;
  const used = process.cpuUsage(c);
  if (step < warmup) continue;
  latency[step - warmup] = wall;
  cpuTime[step - warmup] = (used.user + used.system) / 1000;
  if (d.status === "scheduled") scheduled++;
}

const quantiles = (xs: Float64Array) => {
  const sorted = Float64Array.from(xs).sort();
  return (p: number): string =>
    (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number).toFixed(3);
};
const q = quantiles(latency);
const qc = quantiles(cpuTime);
const measured = latency.length;
console.log(
  `node ${process.version}, ${cpus().length} CPUs, load average before ${loadBefore.join(" ")}, after ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  `${N} nodes × 30 pods, telemetry ${N}/s (${events} samples over ${SECONDS} s of fleet time), ${podEvents} pod binds by others, one decision every ${GAP_MS} ms`,
);
console.log(
  `decisions measured ${measured} after ${warmup} warm-up (${((100 * scheduled) / measured).toFixed(1)} % scheduled): wall p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; CPU p50 ${qc(0.5)} ms, p99 ${qc(0.99)} ms, max ${qc(1)} ms`,
);
console.log(
  `full builds ${cache.rebuilds} (first ${firstBuildMs.toFixed(0)} ms; source ${sourceMs.toFixed(0)} ms in all), in-place updates ${cache.updates}; ingest ${((1000 * ingestMs) / events).toFixed(2)} µs per sample (applyTelemetry + liveChanged)`,
);
