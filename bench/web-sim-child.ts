// Child of bench/web.bench.ts: the fleet simulator in its own process (its CPU is not the coordinator's).
// Reads commands on stdin, one a line: "stats" prints the simulation's counters as one JSON line and
// starts a new PUBACK latency window; "stop" stops it. Exits by itself after --lifetime seconds.
//   node bench/web-sim-child.ts <brokerUrl> <nodes> <intervalMs> <topicRoot> <lifetimeSeconds>
import { createInterface } from "node:readline";
import pino from "pino";
import { startSimulation } from "../simulator/index.ts";

const [brokerUrl = "", nodes = "0", intervalMs = "5000", topicRoot = "", lifetime = "600"] =
  process.argv.slice(2);
setTimeout(() => process.exit(2), Number(lifetime) * 1000).unref();
const sim = await startSimulation({
  brokerUrl,
  nodes: Number(nodes),
  intervalMs: Number(intervalMs),
  topicRoot,
  connectRate: 1000,
  flapFraction: 0,
  seed: 42,
  logger: pino({ level: "warn" }, pino.destination(2)),
});
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "stats") process.stdout.write(`${JSON.stringify(sim.stats({ resetLatency: true }))}\n`);
  if (line === "stop") {
    await sim.stop("bench over");
    process.exit(0);
  }
}
