// Benchmark child for 3: coordinator memory per node with one hour of history, in a process of its own.
// `createIngest` with the coordinator's defaults (the same fleet state and FleetHistory the coordinator
// builds), fed through `ingest.handle` with the simulator's own births, ONLINE statuses and telemetry
// (machineProfile/birthInit/telemetryInit, 1 s interval), then one hour of history per node written
// straight into `ingest.history` (3,600 samples per node: decoding 36 M messages would only measure decode).
// Memory is read after three forced GCs: before anything, after the live state (a few samples per node),
// and after the hour.
import pino from "pino";
import { AGENT_VERSION } from "../../agent/version.ts";
import { createIngest } from "../../coordinator/fleet/ingest.ts";
import { createMessage, encode, PeerState, timestamp, topicsFor } from "../../proto/index.ts";
import { birthInit, machineProfile } from "../../simulator/machine.ts";
import { DEFAULT_MODEL_OPTIONS, initialState, step, telemetryInit } from "../../simulator/model.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { serveCommands } from "./harness.ts";

const gc = (globalThis as { gc?: () => void }).gc;

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

export interface MemoryRunResult {
  nodes: number;
  before: MemorySnapshot;
  live: MemorySnapshot;
  hour: MemorySnapshot;
  historyBytesPerNode: number;
  rawCapacity: number;
  samplesPerNode: number;
  fillSeconds: number;
  historySpanMinutes: number;
}

function settled(): MemorySnapshot {
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

function run(args: { nodes: number; liveSamples: number }): MemoryRunResult {
  const ROOT = "bench/v1";
  const topics = topicsFor(ROOT);
  const INTERVAL = 1000;
  const HOUR_S = 3600;
  const T0 = Date.now() - HOUR_S * 1000;
  let clockMs = T0;
  const before = settled();
  const ingest = createIngest({
    fleet: FLEET_DEFAULTS,
    root: ROOT,
    maxPayloadBytes: 64 * 1024,
    logger: pino({ level: "silent" }),
    now: () => clockMs,
  });
  const ids: string[] = [];
  for (let i = 0; i < args.nodes; i++) {
    const profile = machineProfile(42, i, "sim");
    const id = profile.nodeId;
    ids.push(id);
    const session = BigInt(T0);
    const birth = createMessage(
      "birth",
      birthInit(profile, {
        session,
        nowMs: T0,
        intervalMs: INTERVAL,
        keepaliveSeconds: 5,
        agentVersion: AGENT_VERSION,
      }),
    );
    ingest.handle(topics.birth(id), encode("birth", birth));
    const status = createMessage("nodeStatus", {
      state: PeerState.ONLINE,
      session,
      time: timestamp(T0),
      reason: "",
    });
    ingest.handle(topics.nodeStatus(id), encode("nodeStatus", status));
    let machine = initialState(profile, T0, 42);
    for (let s = 0; s < args.liveSamples; s++) {
      const at = T0 + (HOUR_S - args.liveSamples + s + 1) * 1000;
      clockMs = at;
      machine = step(profile, machine, at, DEFAULT_MODEL_OPTIONS);
      const t = createMessage(
        "telemetry",
        telemetryInit(profile, machine, { session, seq: BigInt(s + 1), nowMs: at, online: true }),
      );
      ingest.handle(topics.telemetry(id), encode("telemetry", t));
    }
  }
  const counters = ingest.counters();
  if (Object.keys(counters.rejected).length > 0 || counters.gaps !== 0) {
    throw new Error(`memory input not clean: ${JSON.stringify(counters)}`);
  }
  const live = settled();
  // The hour before the live samples, oldest first, as the coordinator would have recorded it.
  const fillStart = performance.now();
  for (let s = 0; s < HOUR_S - args.liveSamples; s++) {
    const t = T0 + (s + 1) * 1000;
    for (let n = 0; n < ids.length; n++) {
      ingest.history.record(ids[n] as string, INTERVAL, t, (n * 7 + s) % 100, 20 + ((n + s) % 60));
    }
  }
  const fillSeconds = (performance.now() - fillStart) / 1000;
  clockMs = T0 + HOUR_S * 1000;
  const hour = settled();
  const h = ingest.history.get(ids[0] as string);
  const span = h?.window("cpu", clockMs, HOUR_S * 1000);
  return {
    nodes: args.nodes,
    before,
    live,
    hour,
    historyBytesPerNode: h?.bytes ?? 0,
    rawCapacity: h?.rawCapacity ?? 0,
    samplesPerNode: span?.samples ?? 0,
    fillSeconds,
    historySpanMinutes: ingest.history.options.bucketCount * (ingest.history.options.bucketMs / 60_000),
  };
}

serveCommands({ run });
