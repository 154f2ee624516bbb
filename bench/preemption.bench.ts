// DefaultPreemption cost: one preempt() call (every resolvable node examined: lower-priority pods taken
// off, the pod's filters run, victims reprieved one by one) on full fleets of 50, 500 and 5,000 nodes with
// 10 pods each of random priority, for a pod of higher priority that fits nowhere. A plain script:
//   node bench/preemption.bench.ts [--quick]
// "affinity" fleets give 20 % of the pods required hostname anti-affinity against their own app, so
// InterPodAffinity runs on every node. Data comes from a seeded PRNG: every run measures the same fleets.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  buildSnapshot,
  DEFAULT_PLUGINS,
  DEFAULT_SCHEDULER_CONFIG,
  type NodeInput,
  type Pod,
  schedule,
} from "../coordinator/scheduler/index.ts";
import { preempt } from "../coordinator/scheduler/preemption/index.ts";
import { createRng } from "../simulator/rng.ts";
import { makeNode } from "../test/support/scheduler.ts";

const quick = process.argv.includes("--quick");
const PODS_PER_NODE = 10;
const NOW = Date.parse("2026-12-07T00:00:00Z");

function fleet(nodes: number, seed: number, affinity: boolean): NodeInput[] {
  const rng = createRng(seed);
  const rnd = () => rng.next();
  return Array.from({ length: nodes }, (_, i) => {
    const name = `node-${String(i).padStart(5, "0")}`;
    const pods: Pod[] = Array.from({ length: PODS_PER_NODE }, (_, j) => {
      const app = `app-${Math.floor(rnd() * 50)}`;
      const anti = affinity && rnd() < 0.2;
      return {
        metadata: { name: `${name}-p${j}`, namespace: "default", uid: `${name}-p${j}`, labels: { app } },
        spec: {
          nodeName: name,
          priority: Math.floor(rnd() * 5) * 100,
          containers: [{ name: "c", resources: { requests: { cpu: "400m", memory: "256Mi" } } }],
          ...(anti
            ? {
                affinity: {
                  podAntiAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: [
                      { labelSelector: { matchLabels: { app } }, topologyKey: "kubernetes.io/hostname" },
                    ],
                  },
                },
              }
            : {}),
        },
        status: { phase: "Running", startTime: new Date(NOW - Math.floor(rnd() * 86_400_000)).toISOString() },
      };
    });
    return { node: makeNode(name, { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } }), pods };
  });
}

const preemptor = (i: number, affinity: boolean): Pod => ({
  metadata: { name: `vip-${i}`, namespace: "default", uid: `vip-${i}`, labels: { app: `app-${i % 50}` } },
  spec: {
    priority: 1000,
    containers: [{ name: "c", resources: { requests: { cpu: "1500m", memory: "512Mi" } } }],
    ...(affinity
      ? {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: { matchLabels: { app: `app-${i % 50}` } },
                  topologyKey: "kubernetes.io/hostname",
                },
              ],
            },
          },
        }
      : {}),
  },
});

function measure(nodes: number, affinity: boolean, runs: number) {
  const snapshot = buildSnapshot(fleet(nodes, 7, affinity));
  const times: number[] = [];
  let victims = 0;
  for (let i = 0; i < runs; i++) {
    const pod = preemptor(i, affinity);
    const decision = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, NOW);
    if (decision.status !== "unschedulable") throw new Error("the fleet should be full");
    const t0 = performance.now();
    const r = preempt({
      snapshot,
      pod,
      decision,
      config: DEFAULT_SCHEDULER_CONFIG,
      plugins: DEFAULT_PLUGINS,
      now: NOW,
    });
    times.push(performance.now() - t0);
    if (r.status === "nominated") victims += r.victims.length;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(2);
  return { nodes, affinity, runs, p50: at(0.5), p99: at(0.99), victimsPerCall: (victims / runs).toFixed(1) };
}

console.log(
  `# preemption bench — node ${process.version}, ${cpus().length} cpus, load ${loadavg()[0]?.toFixed(1)}`,
);
console.log("| nodes | pods/node | affinity | calls | p50 ms | p99 ms | victims/call |");
console.log("|---:|---:|---|---:|---:|---:|---:|");
for (const nodes of quick ? [50, 500] : [50, 500, 5000]) {
  for (const affinity of [false, true]) {
    const runs = nodes >= 5000 ? 10 : nodes >= 500 ? 30 : 100;
    const m = measure(nodes, affinity, runs);
    console.log(
      `| ${m.nodes} | ${PODS_PER_NODE} | ${m.affinity ? "20 % anti" : "none"} | ${m.runs} | ${m.p50} | ${m.p99} | ${m.victimsPerCall} |`,
    );
  }
}
