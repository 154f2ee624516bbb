// fast-check arbitraries of pods and nodes for the engine's property tests: every filter and score
// plugin has something to do (requests, taints and tolerations, node selectors and preferences, pod
// (anti-)affinity, host ports, topology spread, live telemetry).
import fc from "fast-check";
import type { Pod, Taint, Toleration } from "../../coordinator/scheduler/k8s-types.ts";
import type { NodeInput } from "../../coordinator/scheduler/snapshot.ts";
import { makeNode, makePod } from "./scheduler.ts";

export const TAINTS: Taint[] = [
  { key: "edge", value: "true", effect: "NoSchedule" },
  { key: "gpu", value: "a100", effect: "NoExecute" },
  { key: "spot", value: "true", effect: "PreferNoSchedule" },
];
export const TOLERATIONS: Toleration[] = [
  { key: "edge", operator: "Exists" },
  { key: "gpu", operator: "Equal", value: "a100", effect: "NoExecute" },
  { key: "spot", operator: "Exists", effect: "PreferNoSchedule" },
];

export const podArb = (name: string) =>
  fc
    .record({
      cpu: fc.integer({ min: 0, max: 3000 }),
      memMi: fc.integer({ min: 0, max: 4096 }),
      app: fc.constantFrom("web", "db", undefined),
      tolerations: fc.subarray(TOLERATIONS),
      zone: fc.constantFrom("a", "b", undefined),
      preferZone: fc.constantFrom("a", "c", undefined),
      noRequests: fc.boolean(),
      // InterPodAffinity, NodePorts and PodTopologySpread, on incoming and running pods alike.
      antiApp: fc.constantFrom("web", "db", undefined),
      preferAntiApp: fc.constantFrom("web", undefined),
      hostPort: fc.constantFrom(80, undefined),
      zoneSpread: fc.constantFrom("DoNotSchedule", "ScheduleAnyway", undefined),
    })
    .map((r) =>
      withPlacementConstraints(
        r,
        makePod(name, {
          labels: r.app ? { app: r.app } : {},
          requests: r.noRequests ? [] : [{ cpu: `${r.cpu}m`, memory: `${r.memMi}Mi` }],
          tolerations: r.tolerations,
          ...(r.zone ? { nodeSelector: { zone: r.zone } } : {}),
          ...(r.preferZone
            ? {
                affinity: {
                  nodeAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      {
                        weight: 5,
                        preference: {
                          matchExpressions: [{ key: "zone", operator: "In", values: [r.preferZone] }],
                        },
                      },
                    ],
                  },
                },
              }
            : {}),
        }),
      ),
    );

interface Constraints {
  readonly app: string | undefined;
  readonly antiApp: string | undefined;
  readonly preferAntiApp: string | undefined;
  readonly hostPort: number | undefined;
  readonly zoneSpread: string | undefined;
}

export function withPlacementConstraints(r: Constraints, pod: Pod): Pod {
  const spec = pod.spec ?? {};
  const containers = spec.containers?.length ? spec.containers : [{ name: "c" }];
  const selector = (app: string) => ({ matchLabels: { app } });
  return {
    ...pod,
    spec: {
      ...spec,
      containers: containers.map((c, i) =>
        i === 0 && r.hostPort ? { ...c, ports: [{ containerPort: r.hostPort, hostPort: r.hostPort }] } : c,
      ),
      affinity: {
        ...spec.affinity,
        podAntiAffinity: {
          ...(r.antiApp
            ? {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: selector(r.antiApp), topologyKey: "kubernetes.io/hostname" },
                ],
              }
            : {}),
          ...(r.preferAntiApp
            ? {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 10,
                    podAffinityTerm: { labelSelector: selector(r.preferAntiApp), topologyKey: "zone" },
                  },
                ],
              }
            : {}),
        },
      },
      ...(r.zoneSpread && r.app
        ? {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "zone",
                whenUnsatisfiable: r.zoneSpread,
                labelSelector: selector(r.app),
              },
            ],
          }
        : {}),
    },
  };
}

export const nodeArb = (i: number) =>
  fc
    .record({
      cpu: fc.integer({ min: 500, max: 8000 }),
      memGi: fc.integer({ min: 1, max: 16 }),
      pods: fc.integer({ min: 1, max: 8 }),
      zone: fc.constantFrom("a", "b", "c"),
      taints: fc.subarray(TAINTS),
      unschedulable: fc.boolean(),
      ready: fc.constantFrom(undefined, "True", "False"),
      live: fc.option(
        fc.record({
          online: fc.boolean(),
          ageMs: fc.integer({ min: 0, max: 40_000 }),
          cpuPercent: fc.double({ min: 0, max: 100, noNaN: true }),
          memoryPercent: fc.double({ min: 0, max: 100, noNaN: true }),
          diskMaxPercent: fc.double({ min: 0, max: 100, noNaN: true }),
        }),
      ),
      running: fc.array(podArb("x"), { maxLength: 4 }),
    })
    .map(
      (r): NodeInput => ({
        node: makeNode(`node-${i}`, {
          allocatable: { cpu: `${r.cpu}m`, memory: `${r.memGi}Gi`, pods: String(r.pods) },
          labels: { zone: r.zone },
          taints: r.taints,
          unschedulable: r.unschedulable,
          ...(r.ready ? { ready: r.ready as "True" | "False" } : {}),
        }),
        pods: r.running.map((p, j) => ({ ...p, metadata: { ...p.metadata, name: `run-${i}-${j}` } })),
        ...(r.live ? { live: { ...r.live, intervalMs: 10_000 } } : {}),
      }),
    );
