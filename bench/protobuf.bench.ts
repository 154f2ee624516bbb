// protobuf-es (what proto/codec.ts uses) against protobufjs, on the contract's own payloads:
// `node bench/protobuf.bench.ts` (about two minutes). Figures and the decision: bench/protobuf-results.md.
//
// 1. decode and encode ns/op of a realistic NodeTelemetry, a NodeBirth and a FleetReport of 10,000 nodes,
//    with @bufbuild/protobuf (fromBinary/toBinary), protobufjs reflection (loaded from fleet.proto) and
//    protobufjs static code (pbjs -t static-module, generated into node_modules/.cache at start);
// 2. CPU per message (process user + system, all threads, so GC counts) of decoding telemetry from 10,000
//    nodes round after round, as a coordinator receives it, and of the coordinator's whole in-process
//    ingest (`ingest.handle`: topic, decode, checks, fleet state, history) on the same payloads;
// 3. whether protobufjs's JSON (toObject with json: true) is the canonical proto3 JSON `--json` prints.
//
// Trials of the three libraries alternate and the median of the trials is reported, so a burst of load
// from other processes on this shared machine hits all three alike.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import pino from "pino";
import protobuf from "protobufjs";
import { createIngest } from "../coordinator/fleet/ingest.ts";
import { buildReport } from "../coordinator/report/build.ts";
import {
  encode,
  FleetReportSchema,
  NodeBirthSchema,
  NodeTelemetrySchema,
  topicsFor,
} from "../proto/index.ts";
import { ingestDefaults } from "../test/support/defaults.ts";
import { birth, telemetry } from "../test/support/fleet-messages.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const ROOT_DIR = fileURLToPath(new URL("..", import.meta.url));
const PROTO = join(ROOT_DIR, "proto/k3sfleet/v1/fleet.proto");
const TRIALS = Number(process.env.BENCH_TRIALS ?? 7);
const NODES = 10_000;
const T0 = Date.UTC(2026, 11, 7, 1, 0, 0);

// --- protobufjs, both ways ------------------------------------------------------------------------------
const reflect = protobuf.loadSync(PROTO);
const genDir = join(ROOT_DIR, "node_modules/.cache/protobuf-bench");
mkdirSync(genDir, { recursive: true });
const staticFile = join(genDir, "fleet_static.js");
execFileSync(
  join(ROOT_DIR, "node_modules/.bin/pbjs"),
  ["-t", "static-module", "-w", "es6", "-p", join(ROOT_DIR, "proto"), "-o", staticFile, PROTO],
  { stdio: "inherit" },
);
// biome-ignore lint/suspicious/noExplicitAny: generated code without its .d.ts
const generated = (await import(pathToFileURL(staticFile).href)) as any;
interface PbjsType {
  decode(bytes: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  toObject(message: object, options: protobuf.IConversionOptions): object;
}
const pbjsStatic = (name: string): PbjsType => generated.k3sfleet.v1[name];
const pbjsReflect = (name: string): PbjsType => reflect.lookupType(`k3sfleet.v1.${name}`);

// --- payloads ---------------------------------------------------------------------------------------------
const topics = topicsFor("k3s-fleet/v1");
const logger = pino({ level: "silent" });
const ids = Array.from({ length: NODES }, (_, i) => `edge-${String(i).padStart(5, "0")}`);

function telemetryBytes(n: number, round: number): Uint8Array {
  return encode(
    "telemetry",
    telemetry({
      session: 3,
      seq: 86_400 + round,
      timeMs: T0 + round * 1000 + (n % 997),
      cpu: 12.5 + ((n * 7 + round * 13) % 80),
      memory: 20 + ((n + round) % 60),
    }),
  );
}

function largeReport(): Uint8Array {
  let clock = T0;
  const ingest = createIngest(ingestDefaults(logger, () => clock));
  for (const nodeId of ids)
    ingest.handle(topics.birth(nodeId), encode("birth", birth({ nodeId, session: 3 })));
  for (let r = 0; r < 3; r++) {
    clock = T0 + r * 1000;
    ids.forEach((id, n) => {
      ingest.handle(topics.telemetry(id), telemetryBytes(n, r));
    });
  }
  const report = buildReport(ingest.fleet, ingest.history, {
    now: clock,
    coordinatorId: "bench",
    mode: "standalone",
    ingest: ingest.counters(),
  });
  return encode("report", report);
}

const payloads = [
  {
    name: "NodeTelemetry",
    schema: NodeTelemetrySchema,
    bytes: telemetryBytes(4242, 1234),
    ops: 200_000,
  },
  {
    name: "NodeBirth",
    schema: NodeBirthSchema,
    bytes: encode("birth", birth({ nodeId: "edge-04242", session: 3, timeMs: T0, keepaliveSeconds: 5 })),
    ops: 100_000,
  },
  { name: "FleetReport", schema: FleetReportSchema, bytes: largeReport(), ops: 6 },
] as const;

// --- timing -------------------------------------------------------------------------------------------------
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Wall ns per op and CPU ns per op (user + system, all threads) of `ops` calls of `fn`. */
function time(ops: number, fn: () => unknown): { wall: number; cpu: number } {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn();
  const wall = Number(process.hrtime.bigint() - t0) / ops;
  const used = process.cpuUsage(cpu0);
  return { wall, cpu: ((used.user + used.system) * 1000) / ops };
}

type Lib = "protobuf-es" | "protobufjs reflect" | "protobufjs static";
const LIBS: Lib[] = ["protobuf-es", "protobufjs reflect", "protobufjs static"];

interface Row {
  payload: string;
  bytes: number;
  lib: Lib;
  /** Medians of the trials: wall clock, and CPU (user + system of the process, GC threads included). */
  decodeNs: number;
  encodeNs: number;
  decodeCpuNs: number;
  encodeCpuNs: number;
}

function codecOps(p: (typeof payloads)[number], lib: Lib) {
  if (lib === "protobuf-es") {
    const message = fromBinary(p.schema, p.bytes);
    return { decode: () => fromBinary(p.schema, p.bytes), encode: () => toBinary(p.schema, message) };
  }
  const type = lib === "protobufjs static" ? pbjsStatic(p.name) : pbjsReflect(p.name);
  const message = type.decode(p.bytes);
  return { decode: () => type.decode(p.bytes), encode: () => type.encode(message).finish() };
}

function micro(): Row[] {
  const rows: Row[] = [];
  for (const p of payloads) {
    type Samples = { decode: number[]; encode: number[]; decodeCpu: number[]; encodeCpu: number[] };
    const samples = new Map<Lib, Samples>();
    for (const lib of LIBS) {
      samples.set(lib, { decode: [], encode: [], decodeCpu: [], encodeCpu: [] });
      const ops = codecOps(p, lib);
      time(Math.max(1, p.ops / 4), ops.decode); // warm-up
      time(Math.max(1, p.ops / 4), ops.encode);
    }
    for (let t = 0; t < TRIALS; t++) {
      for (const lib of LIBS) {
        const ops = codecOps(p, lib);
        const s = samples.get(lib);
        gc();
        const d = time(p.ops, ops.decode);
        gc();
        const e = time(p.ops, ops.encode);
        s?.decode.push(d.wall);
        s?.decodeCpu.push(d.cpu);
        s?.encode.push(e.wall);
        s?.encodeCpu.push(e.cpu);
      }
    }
    for (const lib of LIBS) {
      const s = samples.get(lib);
      if (!s) continue;
      rows.push({
        payload: p.name,
        bytes: p.bytes.byteLength,
        lib,
        decodeNs: median(s.decode),
        encodeNs: median(s.encode),
        decodeCpuNs: median(s.decodeCpu),
        encodeCpuNs: median(s.encodeCpu),
      });
    }
  }
  return rows;
}

// --- CPU per message at 10,000 nodes ---------------------------------------------------------------------
const ROUNDS = 10;
const WARMUP = 3;

/** Decode every node's telemetry, round after round; CPU µs per message (GC included). */
function fleetDecode(lib: Lib, rounds: Uint8Array[][]): number {
  const type = lib === "protobufjs static" ? pbjsStatic("NodeTelemetry") : pbjsReflect("NodeTelemetry");
  const decodeOne =
    lib === "protobuf-es"
      ? (b: Uint8Array) => fromBinary(NodeTelemetrySchema, b)
      : (b: Uint8Array) => type.decode(b);
  let keep: unknown[] = new Array(NODES);
  let cpuUs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const round = rounds[r % rounds.length] ?? [];
    const cpu0 = process.cpuUsage();
    // Each node's latest decoded sample stays alive until its next one, as in fleet state.
    for (let n = 0; n < NODES; n++) keep[n] = decodeOne(round[n] as Uint8Array);
    const used = process.cpuUsage(cpu0);
    if (r >= WARMUP) cpuUs += used.user + used.system;
  }
  keep = [];
  return cpuUs / ((ROUNDS - WARMUP) * NODES);
}

/** The coordinator's whole in-process ingest (as shipped, protobuf-es) on the same payloads. */
function fleetIngest(): number {
  let clock = T0;
  const ingest = createIngest(ingestDefaults(logger, () => clock));
  for (const nodeId of ids)
    ingest.handle(topics.birth(nodeId), encode("birth", birth({ nodeId, session: 3 })));
  const telemetryTopics = ids.map((id) => topics.telemetry(id));
  let cpuUs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // Fresh seq numbers every round (ingest drops duplicates), encoded outside the timed section.
    const round = ids.map((_, n) => telemetryBytes(n, 100 + r));
    clock = T0 + (100 + r) * 1000;
    const cpu0 = process.cpuUsage();
    for (let n = 0; n < NODES; n++) ingest.handle(telemetryTopics[n] as string, round[n] as Uint8Array);
    const used = process.cpuUsage(cpu0);
    if (r >= WARMUP) cpuUs += used.user + used.system;
  }
  const c = ingest.counters();
  if (c.duplicates !== 0 || c.gaps !== 0 || Object.keys(c.rejected).length !== 0) {
    throw new Error(`ingest input was not clean: ${JSON.stringify(c)}`);
  }
  return cpuUs / ((ROUNDS - WARMUP) * NODES);
}

function atScale() {
  const rounds = Array.from({ length: 3 }, (_, r) => ids.map((_, n) => telemetryBytes(n, r)));
  const decode = new Map<Lib, number[]>(LIBS.map((l) => [l, []]));
  const ingest: number[] = [];
  for (let t = 0; t < Math.max(3, Math.ceil(TRIALS / 2)); t++) {
    for (const lib of LIBS) {
      gc();
      decode.get(lib)?.push(fleetDecode(lib, rounds));
    }
    gc();
    ingest.push(fleetIngest());
  }
  return {
    decodeUs: Object.fromEntries(LIBS.map((l) => [l, median(decode.get(l) ?? [])])) as Record<Lib, number>,
    ingestUs: median(ingest),
  };
}

// --- canonical JSON -----------------------------------------------------------------------------------------
function jsonDifferences(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of payloads.slice(0, 2)) {
    const canonical = toJson(p.schema, fromBinary(p.schema, p.bytes)) as Record<string, unknown>;
    const type = pbjsStatic(p.name);
    const pbjs = type.toObject(type.decode(p.bytes), {
      longs: String,
      enums: String,
      bytes: String,
      json: true,
    }) as Record<string, unknown>;
    const diffs: string[] = [];
    const walk = (a: unknown, b: unknown, path: string) => {
      if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
          walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
        }
      } else if (JSON.stringify(a) !== JSON.stringify(b)) {
        diffs.push(`${path}: canonical ${JSON.stringify(a)}, protobufjs ${JSON.stringify(b)}`);
      }
    };
    walk(canonical, pbjs, p.name);
    out[p.name] = diffs;
  }
  return out;
}

// --- run ------------------------------------------------------------------------------------------------------
for (const p of payloads) {
  // Same bytes both ways: protobufjs's encoding of its decoding is what protobuf-es wrote.
  const again = pbjsStatic(p.name).encode(pbjsStatic(p.name).decode(p.bytes)).finish();
  const same = Buffer.compare(Buffer.from(again), Buffer.from(p.bytes)) === 0;
  console.log(`${p.name}: ${p.bytes.byteLength} B; protobufjs re-encodes it byte for byte: ${same}`);
}
const rows = micro();
console.log(
  "\n| payload | bytes | library | decode ns/op, CPU (wall) | encode ns/op, CPU (wall) |\n|---|---:|---|---:|---:|",
);
for (const r of rows) {
  const fmt = (ns: number) =>
    ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : Math.round(ns).toLocaleString("en");
  console.log(
    `| ${r.payload} | ${r.bytes.toLocaleString("en")} | ${r.lib} | ${fmt(r.decodeCpuNs)} (${fmt(r.decodeNs)}) | ` +
      `${fmt(r.encodeCpuNs)} (${fmt(r.encodeNs)}) |`,
  );
}
const scale = atScale();
console.log(`\nCPU per telemetry message at ${NODES.toLocaleString("en")} nodes (µs, GC included):`);
for (const lib of LIBS) console.log(`  decode only, ${lib}: ${scale.decodeUs[lib].toFixed(2)}`);
console.log(`  whole in-process ingest (ingest.handle, protobuf-es): ${scale.ingestUs.toFixed(2)}`);
console.log("\nprotobufjs toObject({json: true}) vs canonical proto3 JSON:");
for (const [name, diffs] of Object.entries(jsonDifferences())) {
  console.log(`  ${name}: ${diffs.length} difference(s)`);
  for (const d of diffs.slice(0, 6)) console.log(`    ${d}`);
}
console.log(`\nnode ${process.version}, protobufjs ${protobuf.build ?? ""}, ${new Date().toISOString()}`);
