// The seeded fleets and incoming pods of the scheduler benchmarks (scheduler.bench.ts, scheduler-ab.ts):
// the same seed gives the same nodes, pods and telemetry, so runs and engine versions compare.
import type { Affinity, NodeInput, Pod, Taint } from "../coordinator/scheduler/index.ts";
import { createRng } from "../simulator/rng.ts";
import { capacity, makeNode, makePod } from "../test/support/scheduler.ts";

export const PODS_PER_NODE = 30;
const APPS = 50;
/** Apps whose replicas carry required hostname anti-affinity (about 30 replicas each at 5,000 nodes). */
const HA_APPS = 1000;

const haAffinity = (app: string): Affinity => ({
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { labelSelector: { matchLabels: { app } }, topologyKey: "kubernetes.io/hostname" },
    ],
  },
});

/** Uniform in [0, 1) from the simulator's seeded mulberry32: the same seed gives the same draws. */
function mulberry32(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

export function fleet(nodes: number, seed: number, affinity: boolean): NodeInput[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  return Array.from({ length: nodes }, (_, i) => {
    const name = `node-${String(i).padStart(5, "0")}`;
    const taints: Taint[] = [];
    if (rnd() < 0.1) taints.push({ key: "edge", value: "true", effect: "NoSchedule" });
    if (rnd() < 0.05) taints.push({ key: "spot", value: "true", effect: "PreferNoSchedule" });
    const r = rnd();
    const pods: Pod[] = Array.from({ length: PODS_PER_NODE }, (_, j) => {
      // Only the affinity fleet draws this number, so the plain fleet stays the same as before.
      const ha = affinity && rnd() < 0.2 ? `ha-${Math.floor(rnd() * HA_APPS)}` : undefined;
      return makePod(`${name}-p${j}`, {
        namespace: ha ? "default" : pick(["default", "edge", "ops"]),
        labels: { app: ha ?? `app-${Math.floor(rnd() * APPS)}`, tier: pick(["web", "worker", "cache"]) },
        requests:
          rnd() < 0.1
            ? []
            : [{ cpu: `${10 + Math.floor(rnd() * 90)}m`, memory: `${16 + Math.floor(rnd() * 112)}Mi` }],
        ...(ha ? { affinity: haAffinity(ha) } : {}),
      });
    });
    return {
      node: makeNode(name, {
        allocatable: capacity(String(pick([2, 4, 8, 16, 32])), `${pick([4, 8, 16, 32, 64])}Gi`, {
          "ephemeral-storage": "100Gi",
        }),
        capacity: { cpu: "64", memory: "64Gi" },
        labels: {
          zone: `z${1 + Math.floor(rnd() * 5)}`,
          arch: pick(["amd64", "arm64"]),
          role: pick(["edge", "core"]),
        },
        taints,
        unschedulable: r < 0.03,
        ready: r > 0.98 ? "False" : "True",
      }),
      pods,
      ...(rnd() < 0.9
        ? {
            live: {
              online: rnd() > 0.03,
              ageMs: rnd() < 0.02 ? 120_000 : Math.floor(rnd() * 10_000),
              intervalMs: 10_000,
              cpuPercent: rnd() * 100,
              memoryPercent: rnd() * 90,
              diskMaxPercent: rnd() * 85,
            },
          }
        : {}),
    };
  });
}

export function incomingPods(count: number, seed: number, affinity: boolean): Pod[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    if (affinity && rnd() < 0.2) {
      const app = `ha-${Math.floor(rnd() * HA_APPS)}`;
      const pod = makePod(`incoming-${i}`, {
        labels: { app },
        requests: [
          { cpu: `${100 + Math.floor(rnd() * 900)}m`, memory: `${128 + Math.floor(rnd() * 896)}Mi` },
        ],
        affinity: haAffinity(app),
      });
      return {
        ...pod,
        spec: {
          ...pod.spec,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "zone",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app } },
            },
          ],
        },
      };
    }
    const zone = rnd() < 0.3 ? { nodeSelector: { zone: `z${1 + Math.floor(rnd() * 5)}` } } : {};
    const prefer =
      rnd() < 0.2
        ? {
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 10,
                    preference: { matchExpressions: [{ key: "arch", operator: "In", values: ["arm64"] }] },
                  },
                ],
              },
            },
          }
        : {};
    const tolerate = rnd() < 0.1 ? { tolerations: [{ key: "edge", operator: "Exists" }] } : {};
    return makePod(`incoming-${i}`, {
      labels: { app: `app-${Math.floor(rnd() * APPS)}` },
      requests: [
        { cpu: `${100 + Math.floor(rnd() * 1900)}m`, memory: `${128 + Math.floor(rnd() * 3968)}Mi` },
      ],
      ...zone,
      ...prefer,
      ...tolerate,
    });
  });
}
