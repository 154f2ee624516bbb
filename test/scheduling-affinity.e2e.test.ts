// The secondary scheduler against the fake Kubernetes API server (real client-node, real informers) with
// workloads that carry pod anti-affinity, host ports, spread constraints and fields the engine does not honour: replicas with
// required hostname anti-affinity land one per node and the extra one gets kube-scheduler's message;
// host-port pods take one node each; zone-spread pods alternate zones; a pod with a PersistentVolumeClaim
// is refused with a message naming the field, never bound.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./fake-apiserver/index.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";

let api: FakeApiServer;
let service: CoordinatorService | undefined;
let dir: string;

async function start(): Promise<CoordinatorService> {
  service = await startCoordinatorService(
    testServiceOptions({
      topicRoot: topics.root,
      kubernetes: {
        kubeconfigPath: api.kubeconfigPath,
        env: {},
        connectTimeoutMs: 5000,
        metricsIntervalMs: 0,
      },
      scheduling: { storePath: join(dir, "scheduling.sqlite"), backoffInitialMs: 100, backoffMaxMs: 400 },
      logger,
    }),
  );
  await until(() => service?.cluster?.synced(), 5000, "informers synced");
  return service;
}

const nodeOf = (name: string): string | undefined =>
  (api.getPod("default", name)?.spec as { nodeName?: string } | undefined)?.nodeName;

interface EventLike {
  reason?: string;
  message?: string;
  involvedObject?: { name?: string };
}
const failures = (pod: string): EventLike[] =>
  (api.events("default") as unknown as EventLike[]).filter(
    (e) => e.involvedObject?.name === pod && e.reason === "FailedScheduling",
  );

const replica = (i: number) =>
  makePod({
    name: `db-${i}`,
    schedulerName: SCHEDULER,
    labels: { app: "db" },
    requests: { cpu: "100m", memory: "64Mi" },
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    },
  });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-affinity-"));
  api = await startFakeApiServer();
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe("secondary scheduler with inter-pod constraints", () => {
  it("binds 3 replicas with required hostname anti-affinity one per node; the 4th waits with kube-scheduler's message", async () => {
    for (const name of ["node-a", "node-b", "node-c"])
      api.addNode(makeNode({ name, cpu: "4", memory: "8Gi" }));
    await start();
    for (const i of [0, 1, 2]) api.addPod(replica(i));
    const nodes = await until(
      () => {
        const bound = [0, 1, 2].map((i) => nodeOf(`db-${i}`));
        return bound.every((n) => n !== undefined) && bound;
      },
      8000,
      "three replicas bound",
    );
    expect(new Set(nodes)).toEqual(new Set(["node-a", "node-b", "node-c"]));

    api.addPod(replica(3));
    const [failed] = await until(() => {
      const list = failures("db-3");
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    expect(nodeOf("db-3")).toBeUndefined();
    // As kube-scheduler does, the pod's PodScheduled condition says why (kubectl describe, autoscalers).
    const condition = await until(() => {
      const status = api.getPod("default", "db-3")?.status as
        | { conditions?: Array<Record<string, unknown>> }
        | undefined;
      return status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    });
    expect(condition).toMatchObject({
      reason: "Unschedulable",
      message:
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
      lastTransitionTime: expect.any(String),
    });

    // A replica going away frees its node for the waiting one.
    const freed = nodes[1] as string;
    api.deletePod("default", "db-1");
    expect(await until(() => nodeOf("db-3"), 8000, "db-3 bound")).toBe(freed);
  });

  it("spreads host-port pods one per node and zone-spread pods across zones", async () => {
    api.addNode(makeNode({ name: "node-a", labels: { "topology.kubernetes.io/zone": "z1" } }));
    api.addNode(makeNode({ name: "node-b", labels: { "topology.kubernetes.io/zone": "z2" } }));
    await start();
    const withPort = (name: string) => {
      const pod = makePod({ name, schedulerName: SCHEDULER, requests: { cpu: "100m" } });
      const spec = pod.spec as { containers: Array<{ ports?: unknown[] }> };
      (spec.containers[0] as { ports?: unknown[] }).ports = [{ containerPort: 8080, hostPort: 8080 }];
      return pod;
    };
    for (const name of ["port-0", "port-1", "port-2"]) api.addPod(withPort(name));
    const [failed] = await until(() => {
      const list = [0, 1, 2].flatMap((i) => failures(`port-${i}`));
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    const bound = [0, 1, 2].map((i) => nodeOf(`port-${i}`)).filter((n) => n !== undefined);
    expect(new Set(bound)).toEqual(new Set(["node-a", "node-b"]));

    const spread = (name: string) => {
      const pod = makePod({
        name,
        schedulerName: SCHEDULER,
        labels: { app: "web" },
        requests: { cpu: "100m" },
      });
      (pod.spec as { topologySpreadConstraints?: unknown[] }).topologySpreadConstraints = [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { app: "web" } },
        },
      ];
      return pod;
    };
    // One at a time, so each decision sees the previous placement through the informer or the assume cache.
    const zones: string[] = [];
    for (const i of [0, 1, 2, 3]) {
      api.addPod(spread(`web-${i}`));
      zones.push(await until(() => nodeOf(`web-${i}`), 8000, `web-${i} bound`));
    }
    expect(zones.filter((n) => n === "node-a")).toHaveLength(2);
    expect(zones.filter((n) => n === "node-b")).toHaveLength(2);
  });

  it("refuses a pod with a PersistentVolumeClaim, naming the field, and binds nothing", async () => {
    api.addNode(makeNode({ name: "node-a" }));
    await start();
    const pod = makePod({ name: "data", schedulerName: SCHEDULER });
    (pod.spec as { volumes?: unknown[] }).volumes = [
      { name: "data", persistentVolumeClaim: { claimName: "data" } },
    ];
    api.addPod(pod);
    const [failed] = await until(() => {
      const list = failures("data");
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/1 nodes are available: pod uses spec.volumes[0].persistentVolumeClaim (VolumeBinding is not implemented), which the k3s-fleet scheduler does not honour. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    expect(nodeOf("data")).toBeUndefined();
  });
});
