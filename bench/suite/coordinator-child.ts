// Benchmark child: the coordinator as `k3s-fleet coordinator` runs it (startCoordinatorService, standalone,
// scheduling on with an in-memory store, no HTTP), with the embedded aedes broker in this same process or
// against an external broker. The parent measures this process's CPU and RSS from /proc.
//
// Instrumentation, from outside the coordinator's code: a tap (`onNodeMessage`) that the coordinator
// calls right after ingest has applied each node message, whether it came over the coordinator's MQTT
// subscription (external broker) or straight from the embedded broker; `Date.now()` there is the "applied"
// time. It reads seq/session/time from the
// node's `latest` sample when that moved (no second decode); only a message that did not become `latest` (late fill,
// duplicate, rejected) is decoded again to learn its seq. Per (node, session) it keeps a bitmap of seqs seen
// during the measured window, and a whole-millisecond histogram of applied − publish time, where publish
// time is the telemetry `time` field the simulator stamps with its own Date.now().
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { Aedes, type AedesOptions } from "aedes";
import pino from "pino";
import { liveByNodeName } from "../../coordinator/fleet/live.ts";
import { type NodeState, nodeHealth } from "../../coordinator/fleet/state.ts";
import { agentNodeInputs } from "../../coordinator/placement/inputs.ts";
import { createSnapshotCache } from "../../coordinator/placement/snapshot-cache.ts";
import { buildSnapshot, createScheduler, type Pod, schedule } from "../../coordinator/scheduler/index.ts";
import { type CoordinatorService, startCoordinatorService } from "../../coordinator/service.ts";
import { decode, encode, NodeHealth, type NodeTelemetry } from "../../proto/index.ts";
import { createRng } from "../../simulator/rng.ts";
import { BROKER_DEFAULTS, COORDINATOR_DEFAULTS } from "../../test/support/defaults.ts";
import { makePod } from "../../test/support/scheduler.ts";
import { testSchedulingSettings } from "../../test/support/scheduling-settings.ts";
import { figuresOf, MsHistogram, serveCommands } from "./harness.ts";
import type {
  CoordinatorStart,
  ExpectedRanges,
  LossCheck,
  MemoryFigures,
  OfflineWatchResult,
  ScheduleLoadArgs,
  ScheduleLoadResult,
  WindowCounts,
} from "./protocol.ts";

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// Experiments only (never in the default suite): BENCH_AEDES_OPTIONS='{"concurrency":0}' merges options
// into the embedded broker's Aedes.createBroker call, to try a fix that would belong in coordinator/broker/broker.ts.
const aedesOverrides = process.env.BENCH_AEDES_OPTIONS;
if (aedesOverrides) {
  const extra = JSON.parse(aedesOverrides) as AedesOptions;
  const original = Aedes.createBroker.bind(Aedes);
  Aedes.createBroker = (options?: AedesOptions) => original({ ...options, ...extra });
  process.stderr.write(`bench coordinator: aedes options overridden with ${aedesOverrides}\n`);
}

let profiler: Session | undefined;

let service: CoordinatorService | undefined;
let root = "";

// --- seq and latency tracking ------------------------------------------------------------------------------

interface SessionSeqs {
  session: bigint;
  base: number;
  bits: Uint8Array;
  /** Seqs below `base` (arrived after a higher one); rare. */
  below: Set<number> | undefined;
}
interface Tracked {
  /** Session and seq of the node's latest sample when this tracker last saw it. */
  session: bigint;
  seq: number;
  sessions: SessionSeqs[];
}

let measuring = false;
let tracked = new Map<string, Tracked>();
let latency = new MsHistogram();
let received = 0;
let receivedAtWindowEnd = -1;
let notLatest = 0;
let undecodable = 0;
let windowStartedAt = 0;
let windowEndedAt = 0;
let countersAtStart = { rejected: 0, duplicates: 0, gaps: 0 };
let loopDelay = monitorEventLoopDelay({ resolution: 10 });
// Garbage-collection pauses on the main thread during the window: the usual suspect for a latency tail.
let gcPauses = { count: 0, totalMs: 0, maxMs: 0, majorMaxMs: 0 };
new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const entry of list.getEntries()) {
    gcPauses.count++;
    gcPauses.totalMs += entry.duration;
    gcPauses.maxMs = Math.max(gcPauses.maxMs, entry.duration);
    // detail.kind 4 is NODE_PERFORMANCE_GC_MAJOR (mark-compact).
    if ((entry as { detail?: { kind?: number } }).detail?.kind === 4) {
      gcPauses.majorMaxMs = Math.max(gcPauses.majorMaxMs, entry.duration);
    }
  }
}).observe({ entryTypes: ["gc"] });
let expectedRanges: ExpectedRanges = [];
/** Nodes not part of the measured fleet (the dead-node victims), left out of the counts. */
let ignorePrefix: string | undefined;

function recordSeq(t: Tracked, session: bigint, seq: number): void {
  let s: SessionSeqs | undefined;
  for (const candidate of t.sessions) if (candidate.session === session) s = candidate;
  if (s === undefined) {
    s = { session, base: seq, bits: new Uint8Array(16), below: undefined };
    t.sessions.push(s);
  }
  if (seq < s.base) {
    s.below ??= new Set();
    s.below.add(seq);
    return;
  }
  const offset = seq - s.base;
  const byte = offset >> 3;
  if (byte >= s.bits.length) {
    const grown = new Uint8Array(Math.max(s.bits.length * 2, byte + 1));
    grown.set(s.bits);
    s.bits = grown;
  }
  s.bits[byte] = (s.bits[byte] ?? 0) | (1 << (offset & 7));
}

function hasSeq(s: SessionSeqs, seq: number): boolean {
  if (seq < s.base) return s.below?.has(seq) ?? false;
  const offset = seq - s.base;
  return (((s.bits[offset >> 3] ?? 0) >> (offset & 7)) & 1) === 1;
}

const epochMs = (t: NodeTelemetry): number =>
  t.time === undefined ? Number.NaN : Number(t.time.seconds) * 1000 + Math.floor(t.time.nanos / 1e6);

// --- dead-node watch -------------------------------------------------------------------------------------

interface Watched {
  willAt?: number;
  staleAt?: number;
  offlineAt?: number;
}
let watched = new Map<string, Watched>();
let watchTimer: NodeJS.Timeout | undefined;

function pollWatched(): void {
  const fleet = service?.coordinator.fleet;
  if (!fleet) return;
  const now = Date.now();
  for (const [nodeId, w] of watched) {
    const node = fleet.nodes.get(nodeId);
    if (!node) continue;
    const health = nodeHealth(fleet, node, now);
    if (health === NodeHealth.STALE && w.staleAt === undefined) w.staleAt = now;
    if (health === NodeHealth.OFFLINE && w.offlineAt === undefined) w.offlineAt = now;
  }
}

let nodePrefix = "";

// Kept cheap (it runs in the measured process for every message): one slice for the node id, no decode
// unless the message did not become the node's latest sample.
function onMessage(topic: string, payload: Buffer): void {
  const at = Date.now();
  const fleet = service?.coordinator.fleet;
  if (!fleet || !topic.startsWith(nodePrefix)) return;
  const slash = topic.indexOf("/", nodePrefix.length);
  if (slash < 0) return;
  if (topic.endsWith("/status")) {
    const nodeId = topic.slice(nodePrefix.length, slash);
    const w = watched.get(nodeId);
    if (w && w.willAt === undefined && fleet.nodes.get(nodeId)?.offline) w.willAt = at;
    return;
  }
  if (!measuring || !topic.endsWith("/telemetry")) return;
  const nodeId = topic.slice(nodePrefix.length, slash);
  if (ignorePrefix !== undefined && nodeId.startsWith(ignorePrefix)) return;
  let t = tracked.get(nodeId);
  if (t === undefined) {
    t = { session: -1n, seq: -1, sessions: [] };
    tracked.set(nodeId, t);
  }
  const node: NodeState | undefined = fleet.nodes.get(nodeId);
  const latest = node?.latest;
  if (latest !== undefined && (latest.session !== t.session || latest.seq !== t.seq)) {
    // The latest sample moved: this message is it.
    t.session = latest.session;
    t.seq = latest.seq;
    received++;
    recordSeq(t, latest.session, latest.seq);
    latency.record(at - latest.timeMs);
    return;
  }
  // Not applied as the node's newest sample: decode it again to know which seq it was.
  notLatest++;
  const decoded = decode("telemetry", payload);
  if (!decoded.ok) {
    undecodable++;
    return;
  }
  const message = decoded.message;
  received++;
  recordSeq(t, message.session, Number(message.seq));
  latency.record(at - epochMs(message));
}

function ingestCounters() {
  const c = service?.coordinator.counters();
  const rejected = Object.values(c?.rejected ?? {}).reduce((a, b) => a + (b ?? 0), 0);
  return { rejected, duplicates: c?.duplicates ?? 0, gaps: c?.gaps ?? 0 };
}

// --- scheduling under load ------------------------------------------------------------------------------------

/** Uniform in [0, 1) from the simulator's seeded mulberry32: the same seed gives the same draws. */
function mulberry32(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

const ZONES = ["edge-north", "edge-south", "edge-east", "edge-west", "factory-1", "factory-2"];

function incomingPods(count: number, seed: number): Pod[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const zone =
      rnd() < 0.3
        ? {
            nodeSelector: {
              "topology.kubernetes.io/zone": ZONES[Math.floor(rnd() * ZONES.length)] as string,
            },
          }
        : {};
    const prefer =
      rnd() < 0.2
        ? {
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 10,
                    preference: {
                      matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["arm64"] }],
                    },
                  },
                ],
              },
            },
          }
        : {};
    return makePod(`bench-${i}`, {
      labels: { app: `app-${Math.floor(rnd() * 50)}` },
      requests: [
        { cpu: `${100 + Math.floor(rnd() * 1900)}m`, memory: `${128 + Math.floor(rnd() * 3968)}Mi` },
      ],
      ...zone,
      ...prefer,
    });
  });
}

/**
 * Decisions at a fixed rate for a fixed time, as the scheduling service makes an advisory (standalone)
 * one: snapshot cache over `agentNodeInputs(fleet, liveByNodeName(...))`, rebuilt when older than the
 * service's snapshotMaxAgeMs, assumed pods expired, then `schedule`. Paced by a 10 ms timer; a decision
 * that is due but late still runs (the latency is the call's own duration, the lateness is reported apart).
 */
async function scheduleLoad(args: ScheduleLoadArgs): Promise<ScheduleLoadResult> {
  const svc = service;
  if (!svc) throw new Error("coordinator not started");
  const fleet = svc.coordinator.fleet;
  const scheduler = createScheduler({});
  const buildMs: number[] = [];
  let snapshotNodes = 0;
  const cache = createSnapshotCache({
    assumed: scheduler.assumed,
    maxAgeMs: args.snapshotMaxAgeMs ?? testSchedulingSettings().snapshotMaxAgeMs,
    source: (at) => agentNodeInputs(fleet, liveByNodeName(fleet, at)),
    build: (input) => {
      const t0 = performance.now();
      const snapshot = buildSnapshot(input);
      buildMs.push(performance.now() - t0);
      snapshotNodes = input.nodes.length;
      return snapshot;
    },
  });
  const pods = incomingPods(256, 7);
  const latencies: number[] = [];
  let scheduled = 0;
  let unschedulable = 0;
  let feasible = 0;
  const start = performance.now();
  let done = 0;
  let behindMax = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.min(
        Math.floor((Math.min(elapsed, args.durationMs) / 1000) * args.ratePerSecond),
        args.maxDecisions,
      );
      behindMax = Math.max(behindMax, due - done);
      while (done < due) {
        const pod = pods[done % pods.length] as Pod;
        const t0 = performance.now();
        const now = Date.now();
        const snapshot = cache.get(now);
        scheduler.assumed.expire(snapshot, now);
        const decision = schedule(snapshot, pod, scheduler.config, now);
        latencies.push(performance.now() - t0);
        if (decision.status === "scheduled") scheduled++;
        else unschedulable++;
        feasible += decision.feasible;
        done++;
      }
      if (elapsed >= args.durationMs || done >= args.maxDecisions) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const seconds = (performance.now() - start) / 1000;
  return {
    decisions: done,
    seconds,
    perSecond: done / seconds,
    latencyMs: figuresOf(latencies),
    scheduled,
    unschedulable,
    avgFeasible: done === 0 ? 0 : feasible / done,
    snapshotNodes,
    snapshotBuildsMs: buildMs,
    maxBehind: behindMax,
  };
}

// --- commands ------------------------------------------------------------------------------------------

serveCommands({
  async start(args: CoordinatorStart) {
    root = args.topicRoot;
    nodePrefix = `${root}/node/`;
    const logger = pino({ level: args.logLevel ?? "warn" }, pino.destination(2));
    service = await startCoordinatorService({
      embeddedBroker: args.embedded
        ? {
            ...BROKER_DEFAULTS,
            host: "127.0.0.1",
            port: 0,
            // as `k3s-fleet coordinator --embedded-broker` with the default config
            maxPacketBytes: 16 * 1024 * 1024,
            refusedPublish: "drop",
          }
        : undefined,
      ...COORDINATOR_DEFAULTS,
      brokerUrl: args.brokerUrl ?? "",
      topicRoot: args.topicRoot,
      clientId: "bench-coordinator",
      reportIntervalMs: args.reportIntervalMs,
      staleAfterIntervals: args.staleAfterIntervals,
      offlineAfterIntervals: args.offlineAfterIntervals,
      defaultIntervalMs: args.defaultIntervalMs,
      maxPayloadBytes: 64 * 1024,
      keepaliveSeconds: 10,
      logger,
      scheduling: testSchedulingSettings(),
    });
    service.coordinator.onNodeMessage(onMessage);
    return { brokerUrl: service.broker?.url ?? args.brokerUrl, pid: process.pid };
  },

  /** Starts a measured window: forget what was tracked, reset the histogram and event-loop delay. */
  windowStart(args: { ignorePrefix?: string }) {
    ignorePrefix = args.ignorePrefix;
    tracked = new Map();
    latency = new MsHistogram();
    received = 0;
    receivedAtWindowEnd = -1;
    notLatest = 0;
    undecodable = 0;
    countersAtStart = ingestCounters();
    loopDelay.disable();
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    gcPauses = { count: 0, totalMs: 0, maxMs: 0, majorMaxMs: 0 };
    measuring = true;
    windowStartedAt = performance.now();
    return { at: Date.now() };
  },

  /** The end of the timed part; tracking continues (late arrivals still count as received, not as lost). */
  windowEnd(): WindowCounts {
    windowEndedAt = performance.now();
    receivedAtWindowEnd = received;
    loopDelay.disable();
    const c = ingestCounters();
    return {
      received,
      seconds: (windowEndedAt - windowStartedAt) / 1000,
      loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - 10),
      loopDelayMaxMs: Math.max(0, loopDelay.max / 1e6 - 10),
      gc: { ...gcPauses },
      rejected: c.rejected - countersAtStart.rejected,
      duplicates: c.duplicates - countersAtStart.duplicates,
      gaps: c.gaps - countersAtStart.gaps,
    };
  },

  /** What the simulator published in its window, to compare with (kept until the next one). */
  expect(args: { expected: ExpectedRanges }) {
    expectedRanges = args.expected;
    return { nodes: expectedRanges.length };
  },

  /** Compares what arrived with what the simulator published in its window; `final` also stops tracking. */
  lossCheck(args: { final: boolean }): LossCheck {
    let expected = 0;
    let found = 0;
    const examples: string[] = [];
    for (const [nodeId, ranges] of expectedRanges) {
      const t = tracked.get(nodeId);
      for (const [sessionText, first, last] of ranges) {
        const session = BigInt(sessionText);
        expected += last - first + 1;
        const s = t?.sessions.find((x) => x.session === session);
        let here = 0;
        if (s) for (let seq = first; seq <= last; seq++) if (hasSeq(s, seq)) here++;
        found += here;
        if (here < last - first + 1 && examples.length < 5) {
          examples.push(`${nodeId} session ${sessionText}: ${here} of seq ${first}..${last}`);
        }
      }
    }
    if (args.final) measuring = false;
    return {
      expected,
      found,
      lost: expected - found,
      examples,
      latency: latency.toData(),
      receivedTotal: received,
      receivedAfterWindow: receivedAtWindowEnd < 0 ? 0 : received - receivedAtWindowEnd,
      notLatest,
      undecodable,
      nodesSeen: tracked.size,
    };
  },

  /** Starts polling these nodes; says which of them are not ONLINE right now (their figures would be void). */
  watchStart(args: { nodeIds: string[] }) {
    watched = new Map(args.nodeIds.map((id) => [id, {}]));
    const fleet = service?.coordinator.fleet;
    const now = Date.now();
    const notOnline = args.nodeIds.filter((id) => {
      const node = fleet?.nodes.get(id);
      return !fleet || !node || nodeHealth(fleet, node, now) !== NodeHealth.ONLINE;
    });
    clearInterval(watchTimer);
    watchTimer = setInterval(pollWatched, 100);
    return { watching: watched.size, notOnline };
  },

  async watchResult(args: { timeoutMs: number }): Promise<OfflineWatchResult> {
    const deadline = Date.now() + args.timeoutMs;
    while (Date.now() < deadline && [...watched.values()].some((w) => w.offlineAt === undefined)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    clearInterval(watchTimer);
    return { nodes: Object.fromEntries(watched) };
  },

  scheduleLoad,

  /**
   * What one report interval costs at the current fleet size: buildReportNow() and its encoding in one
   * piece, then what the interval really does (publishReportNow: built and encoded in slices, published),
   * with the longest stretch the event loop was held, seen by a setImmediate probe running alongside.
   */
  async reportCost() {
    const coordinator = service?.coordinator;
    if (!coordinator) throw new Error("coordinator not started");
    const t0 = performance.now();
    const report = coordinator.buildReportNow();
    const t1 = performance.now();
    const bytes = encode("report", report).byteLength;
    const t2 = performance.now();
    let probing = true;
    let last = performance.now();
    let longestBlockMs = 0;
    const probe = () => {
      const at = performance.now();
      longestBlockMs = Math.max(longestBlockMs, at - last);
      last = at;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    const s0 = performance.now();
    await coordinator.publishReportNow();
    const slicedMs = performance.now() - s0;
    probing = false;
    return {
      nodes: report.nodes.length,
      buildMs: t1 - t0,
      encodeMs: t2 - t1,
      bytes,
      slicedMs,
      longestBlockMs,
    };
  },

  /** CPU profile of this process from now until profileStop (the inspector's sampling profiler). */
  async profileStart() {
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.setSamplingInterval", { interval: 500 });
    await profiler.post("Profiler.start");
    return {};
  },

  async profileStop(args: { file: string }) {
    if (!profiler) throw new Error("no profile running");
    const { profile } = await profiler.post("Profiler.stop");
    profiler.disconnect();
    profiler = undefined;
    writeFileSync(args.file, JSON.stringify(profile));
    return { file: args.file };
  },

  memory(): MemoryFigures {
    for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    const fleet = service?.coordinator.fleet;
    const byHealth: Record<string, number> = {};
    if (fleet) {
      const now = Date.now();
      for (const node of fleet.nodes.values()) {
        const h = NodeHealth[nodeHealth(fleet, node, now)] ?? "?";
        byHealth[h] = (byHealth[h] ?? 0) + 1;
      }
    }
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      nodes: fleet?.nodes.size ?? 0,
      byHealth,
    };
  },

  async stop() {
    measuring = false;
    clearInterval(watchTimer);
    await service?.stop();
  },
});
