// A/B of two versions of the engine in one process, on CPU time, so that the load other processes put
// on a shared machine falls on both alike:
//   node bench/scheduler-ab.ts DIR_A DIR_B [--nodes 5000] [--affinity] [--rounds 20]
// DIR_A and DIR_B are trees of this repository (e.g. `git archive <commit> | tar -x -C /tmp/a`). Both
// engines get the same seeded fleet and pods (scheduler-fleet.ts of this tree), build their own
// snapshot, warm up, then alternate rounds of 100 decisions; the figures are CPU ms per decision
// (this process's user + system time over its rounds) and the latency quantiles of one `schedule()`.
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Pod } from "../coordinator/scheduler/index.ts";
import { fleet, incomingPods } from "./scheduler-fleet.ts";

type Engine = typeof import("../coordinator/scheduler/index.ts");

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const dirs = args.filter((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
if (dirs.length !== 2) {
  console.error("usage: node bench/scheduler-ab.ts DIR_A DIR_B [--nodes N] [--affinity] [--rounds N]");
  process.exit(2);
}
const nodes = option("--nodes", 5000);
const rounds = option("--rounds", 20);
const affinity = args.includes("--affinity");
const PER_ROUND = 100;

const input = fleet(nodes, 42, affinity);
const pods = incomingPods(256, 7, affinity);
const versions = await Promise.all(
  dirs.map(async (dir) => {
    const engine: Engine = await import(resolve(dir, "coordinator/scheduler/index.ts"));
    const snapshot = engine.buildSnapshot({ nodes: input, takenAt: 0 });
    return { dir, engine, snapshot, cpuMs: 0, times: [] as number[] };
  }),
);
for (const v of versions)
  for (let i = 0; i < 300; i++)
    v.engine.schedule(v.snapshot, pods[i % pods.length] as Pod, v.engine.DEFAULT_SCHEDULER_CONFIG, 1_000);

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let round = 0; round < rounds; round++) {
  for (const v of versions) {
    const start = cpuMs();
    for (let i = 0; i < PER_ROUND; i++) {
      const pod = pods[(round * PER_ROUND + i) % pods.length] as Pod;
      const t = performance.now();
      v.engine.schedule(v.snapshot, pod, v.engine.DEFAULT_SCHEDULER_CONFIG, 1_000 + i);
      v.times.push(performance.now() - t);
    }
    v.cpuMs += cpuMs() - start;
  }
}
const q = (sorted: number[], p: number): string =>
  (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number).toFixed(3);
console.log(
  `${nodes} nodes, ${affinity ? "affinity" : "plain"} mix, ${rounds} × ${PER_ROUND} decisions each`,
);
for (const [name, v] of versions.map((v, i) => [i === 0 ? "A" : "B", v] as const)) {
  const sorted = [...v.times].sort((a, b) => a - b);
  const perDecision = (v.cpuMs / (rounds * PER_ROUND)).toFixed(3);
  console.log(
    `${name} ${v.dir}: CPU ms/decision ${perDecision}, p10 ${q(sorted, 0.1)}, p50 ${q(sorted, 0.5)}`,
  );
}
