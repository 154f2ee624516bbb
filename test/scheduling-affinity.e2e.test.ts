// The secondary scheduler against the fake Kubernetes API server (real client-node, real informers) with
// workloads that carry pod anti-affinity, host ports, spread constraints and fields the engine does not honour: replicas with
// required hostname anti-affinity land one per node and the extra one gets kube-scheduler's message;
// host-port pods take one node each; zone-spread pods alternate zones; a pod with a PersistentVolumeClaim
// is refused with a message naming the field, never bound.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { topicsFor } from "../proto/index.ts";
import { makeNode, makePod } from "./fake-apiserver/index.ts";
import { useFakeCluster } from "./support/fake-cluster.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";

const fake = useFakeCluster({ topicRoot: topics.root, logger, dirPrefix: "k3s-fleet-affinity-" });
const start = () => fake.start();
const nodeOf = (name: string) => fake.nodeOf(name);
const failures = (pod: string) => fake.eventsFor(pod, "FailedScheduling");

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

describe("secondary scheduler with inter-pod constraints", () => {
  it("binds 3 replicas with required hostname anti-affinity one per node; the 4th waits with kube-scheduler's message", async () => {
    for (const name of ["node-a", "node-b", "node-c"])
      fake.api.addNode(makeNode({ name, cpu: "4", memory: "8Gi" }));
    await start();
    for (const i of [0, 1, 2]) fake.api.addPod(replica(i));
    const nodes = await until(
      () => {
        const bound = [0, 1, 2].map((i) => nodeOf(`db-${i}`));
        return bound.every((n) => n !== undefined) && bound;
      },
      8000,
      "three replicas bound",
    );
    expect(new Set(nodes)).toEqual(new Set(["node-a", "node-b", "node-c"]));

    fake.api.addPod(replica(3));
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
      const status = fake.api.getPod("default", "db-3")?.status as
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
    fake.api.deletePod("default", "db-1");
    expect(await until(() => nodeOf("db-3"), 8000, "db-3 bound")).toBe(freed);
  });

  it("spreads host-port pods one per node and zone-spread pods across zones", async () => {
    fake.api.addNode(makeNode({ name: "node-a", labels: { "topology.kubernetes.io/zone": "z1" } }));
    fake.api.addNode(makeNode({ name: "node-b", labels: { "topology.kubernetes.io/zone": "z2" } }));
    await start();
    const withPort = (name: string) => {
      const pod = makePod({ name, schedulerName: SCHEDULER, requests: { cpu: "100m" } });
      const spec = pod.spec as { containers: Array<{ ports?: unknown[] }> };
      (spec.containers[0] as { ports?: unknown[] }).ports = [{ containerPort: 8080, hostPort: 8080 }];
      return pod;
    };
    for (const name of ["port-0", "port-1", "port-2"]) fake.api.addPod(withPort(name));
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
      fake.api.addPod(spread(`web-${i}`));
      zones.push(await until(() => nodeOf(`web-${i}`), 8000, `web-${i} bound`));
    }
    expect(zones.filter((n) => n === "node-a")).toHaveLength(2);
    expect(zones.filter((n) => n === "node-b")).toHaveLength(2);
  });

  it("refuses a pod with an inline CSI volume (NodeVolumeLimits), naming the field, and binds nothing", async () => {
    fake.api.addNode(makeNode({ name: "node-a" }));
    await start();
    const pod = makePod({ name: "data", schedulerName: SCHEDULER });
    (pod.spec as { volumes?: unknown[] }).volumes = [{ name: "data", csi: { driver: "example.csi.k8s.io" } }];
    fake.api.addPod(pod);
    const [failed] = await until(() => {
      const list = failures("data");
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/1 nodes are available: pod uses spec.volumes[0].csi (NodeVolumeLimits is not implemented), which the k3s-fleet scheduler does not honour. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    expect(nodeOf("data")).toBeUndefined();
  });
});
