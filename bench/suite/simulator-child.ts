// Benchmark child: the fleet simulator (simulator/index.ts) in its own process, so its CPU does not count
// against the coordinator's. During a window it records, per node and session, the first and last seq it
// wrote to the socket: what the coordinator must have received.
import pino from "pino";
import { type Simulation, startSimulation } from "../../simulator/index.ts";
import { serveCommands } from "./harness.ts";
import type { ExpectedRanges, SimulatorStart, SimWindow } from "./protocol.ts";

let sim: Simulation | undefined;
let marking = false;
let ranges = new Map<string, Array<{ session: bigint; first: number; last: number }>>();
let windowStartedAt = 0;
let atStart = { published: 0, skipped: 0, lagged: 0, lost: 0, errors: 0 };

const running = (): Simulation => {
  if (!sim) throw new Error("simulation not started");
  return sim;
};

serveCommands({
  async start(args: SimulatorStart) {
    const logger = pino({ level: "warn" }, pino.destination(2));
    sim = await startSimulation({
      brokerUrl: args.brokerUrl,
      nodes: args.nodes,
      intervalMs: args.intervalMs,
      keepaliveSeconds: args.keepaliveSeconds,
      connectRate: args.connectRate,
      topicRoot: args.topicRoot,
      prefix: args.prefix,
      seed: args.seed,
      flapFraction: 0,
      logger,
      onPublish: (event) => {
        if (!marking) return;
        const seq = Number(event.seq);
        const list = ranges.get(event.nodeId);
        if (list === undefined) {
          ranges.set(event.nodeId, [{ session: event.session, first: seq, last: seq }]);
          return;
        }
        const last = list[list.length - 1];
        if (last !== undefined && last.session === event.session) last.last = seq;
        else list.push({ session: event.session, first: seq, last: seq });
      },
    });
    return { nodeIds: sim.nodeIds.length };
  },

  async waitConnected(args: { timeoutMs: number }) {
    const t0 = performance.now();
    const all = await running().waitForConnected(undefined, args.timeoutMs);
    const s = running().stats();
    return { all, seconds: (performance.now() - t0) / 1000, connected: s.connected, errors: s.errors };
  },

  windowStart() {
    const s = running().stats({ resetLatency: true });
    atStart = {
      published: s.published,
      skipped: s.skipped,
      lagged: s.lagged,
      lost: s.lost,
      errors: s.errors,
    };
    ranges = new Map();
    marking = true;
    windowStartedAt = performance.now();
    return { at: Date.now() };
  },

  windowEnd(): SimWindow {
    marking = false;
    const seconds = (performance.now() - windowStartedAt) / 1000;
    const s = running().stats();
    const expected: ExpectedRanges = [...ranges].map(([nodeId, list]) => [
      nodeId,
      list.map((r) => [String(r.session), r.first, r.last] as [string, number, number]),
    ]);
    return {
      expected,
      published: s.published - atStart.published,
      seconds,
      skipped: s.skipped - atStart.skipped,
      lagged: s.lagged - atStart.lagged,
      lostInFlight: s.lost - atStart.lost,
      errors: s.errors - atStart.errors,
      errorsByCode: s.errorsByCode,
      ackP99Ms: s.ackLatencyMs.p99,
      connected: s.connected,
    };
  },

  /** Abrupt kills (socket destroyed, no DISCONNECT); returns Date.now() just before each. */
  kill(args: { nodeIds: string[] }) {
    const at: Record<string, number> = {};
    for (const id of args.nodeIds) {
      at[id] = Date.now();
      if (!running().kill(id)) throw new Error(`unknown node ${id}`);
    }
    return { at };
  },

  stats() {
    return running().stats();
  },

  async stop() {
    await sim?.stop("benchmark finished");
  },
});
