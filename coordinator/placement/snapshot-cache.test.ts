import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import {
  buildSnapshot,
  createAssumeCache,
  DEFAULT_SCHEDULER_CONFIG,
  type LiveTelemetry,
  type Node,
  type NodeInput,
  type Pod,
  schedule,
} from "../scheduler/index.ts";
import { clusterNodeInputs } from "./inputs.ts";
import { createSnapshotCache } from "./snapshot-cache.ts";

const signals = (cpuPercent: number): LiveTelemetry => ({
  online: true,
  ageMs: 0,
  intervalMs: 10_000,
  cpuPercent,
  memoryPercent: 10,
  diskMaxPercent: 10,
});

function setup(maxAgeMs = 10_000) {
  const nodes: Node[] = [
    makeNode("a", { allocatable: capacity("4", "8Gi"), labels: { zone: "z1" } }),
    makeNode("b", { allocatable: capacity("4", "8Gi"), labels: { zone: "z1" } }),
  ];
  const pods: Pod[] = [makePod("existing", { uid: "u0", nodeName: "a", requests: [{ cpu: "1" }] })];
  /** What the agents report now, by node name. */
  const agents = new Map<string, LiveTelemetry>([
    ["a", signals(10)],
    ["b", signals(10)],
  ]);
  const assumed = createAssumeCache();
  let builds = 0;
  const cache = createSnapshotCache({
    assumed,
    maxAgeMs,
    build: (input) => {
      builds++;
      return buildSnapshot(input);
    },
    source: (): NodeInput[] => clusterNodeInputs(nodes, pods, agents),
    live: () => (name) => agents.get(name),
  });
  return { nodes, pods, agents, assumed, cache, builds: () => builds };
}

const where = (cache: ReturnType<typeof setup>["cache"], at: number, pod: Pod) =>
  schedule(cache.get(at), pod, DEFAULT_SCHEDULER_CONFIG, at);

describe("snapshot cache", () => {
  it("builds once and reuses the snapshot until it is too old", () => {
    const { cache, builds } = setup(1000);
    const first = cache.get(0);
    expect(cache.get(999)).toBe(first);
    expect(builds()).toBe(1);
    expect(cache.get(1000)).not.toBe(first);
    expect(builds()).toBe(2);
  });

  it("a pod someone else binds, finishes or deletes counts in the next decision, without a rebuild", () => {
    const { cache, builds } = setup();
    const snapshot = cache.get(0);
    const theirs = makePod("theirs", { uid: "u3", nodeName: "b", requests: [{ cpu: "3500m" }] });
    cache.podChanged("add", theirs);
    expect(cache.get(1).byName.get("b")?.reqCpu).toBe(3500);
    // b has 500m left: a pod asking for 1 cpu goes to a (3 cpu left).
    const pod = makePod("p", { requests: [{ cpu: "1" }] });
    expect(where(cache, 1, pod).node).toBe("a");
    cache.podChanged("update", { ...theirs, status: { phase: "Succeeded" } });
    expect(cache.get(2).byName.get("b")?.reqCpu).toBe(0);
    cache.podChanged("update", theirs); // not possible in Kubernetes, but the snapshot follows the cluster
    cache.podChanged("delete", theirs);
    expect(cache.get(3).byName.get("b")?.pods).toEqual([]);
    cache.podChanged("delete", makePod("existing", { uid: "u0", nodeName: "a" }));
    expect(cache.get(4).byName.get("a")?.reqCpu).toBe(0);
    expect(cache.get(5)).toBe(snapshot);
    expect(builds()).toBe(1);
    expect(cache.updates).toBe(5);
  });

  it("a pod's new labels count at once (spreading and affinity read them)", () => {
    const { cache } = setup();
    cache.get(0);
    cache.podChanged(
      "update",
      makePod("existing", { uid: "u0", nodeName: "a", labels: { app: "web" }, requests: [{ cpu: "1" }] }),
    );
    const anti = makePod("p", {
      labels: { app: "web" },
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" },
          ],
        },
      },
    });
    const d = where(cache, 1, anti);
    expect(d.node).toBe("b");
    expect(d.rejections.map((r) => r.node)).toEqual(["a"]);
  });

  it("ignores pods that are not bound", () => {
    const { cache, builds } = setup();
    const snapshot = cache.get(0);
    cache.podChanged("add", makePod("pending", { uid: "u1" }));
    cache.podChanged("delete", makePod("pending", { uid: "u1" }));
    expect(cache.get(1)).toBe(snapshot);
    expect(builds()).toBe(1);
    expect(cache.updates).toBe(0);
  });

  it("a pod we placed showing up bound is a confirmation, not a change", () => {
    const { cache, assumed, builds } = setup();
    const snapshot = cache.get(0);
    const pod = makePod("ours", { uid: "u2", requests: [{ cpu: "1" }] });
    assumed.assume(snapshot, pod, "b", 0);
    cache.podChanged("update", pod); // still unbound: the assumption stands
    expect(snapshot.byName.get("b")?.reqCpu).toBe(1000);
    cache.podChanged("update", { ...pod, spec: { ...pod.spec, nodeName: "b" } });
    expect(assumed.list()).toEqual([]);
    expect(cache.get(1)).toBe(snapshot);
    expect(snapshot.byName.get("b")?.reqCpu).toBe(1000);
    expect(builds()).toBe(1);
  });

  it("a pod we placed that the cluster shows on another node moves there", () => {
    const { cache, assumed } = setup();
    const snapshot = cache.get(0);
    const pod = makePod("ours", { uid: "u6", requests: [{ cpu: "1" }] });
    assumed.assume(snapshot, pod, "b", 0);
    cache.podChanged("update", { ...pod, spec: { ...pod.spec, nodeName: "a" } });
    expect(assumed.list()).toEqual([]);
    expect(cache.get(1).byName.get("b")?.reqCpu).toBe(0);
    expect(cache.get(1).byName.get("a")?.reqCpu).toBe(2000);
  });

  it("a pod we placed that is deleted before it is confirmed leaves the snapshot at once", () => {
    const { cache, assumed, builds } = setup();
    const snapshot = cache.get(0);
    const pod = makePod("ours", { uid: "u4", requests: [{ cpu: "2" }] });
    assumed.assume(snapshot, pod, "b", 0);
    cache.podChanged("delete", pod);
    expect(snapshot.byName.get("b")?.reqCpu).toBe(0);
    expect(cache.get(1)).toBe(snapshot);
    expect(builds()).toBe(1);
  });

  it("carries unconfirmed placements into a rebuilt snapshot", () => {
    const { cache, assumed } = setup();
    assumed.assume(cache.get(0), makePod("ours", { uid: "u5", requests: [{ cpu: "2" }] }), "b", 0);
    cache.invalidate();
    const rebuilt = cache.get(1);
    expect(rebuilt.byName.get("b")?.reqCpu).toBe(2000);
  });

  it("a node's changed labels count in the next decision; a heartbeat changes nothing; a new node rebuilds", () => {
    const { cache, nodes, builds } = setup();
    const snapshot = cache.get(0);
    const inZ2 = makePod("p", { nodeSelector: { zone: "z2" } });
    expect(where(cache, 1, inZ2).status).toBe("unschedulable");
    cache.nodeChanged("update", { ...(nodes[1] as Node), status: { ...nodes[1]?.status } });
    expect(cache.updates).toBe(0);
    nodes[1] = makeNode("b", { allocatable: capacity("4", "8Gi"), labels: { zone: "z2" } });
    cache.nodeChanged("update", nodes[1]);
    expect(where(cache, 2, inZ2).node).toBe("b");
    expect(cache.get(2)).toBe(snapshot);
    expect(builds()).toBe(1);
    nodes.push(makeNode("c", { allocatable: capacity("4", "8Gi"), labels: { zone: "z2" } }));
    cache.nodeChanged("add", nodes[2] as Node);
    expect(cache.get(3).nodes.map((n) => n.name)).toEqual(["a", "b", "c"]);
    expect(builds()).toBe(2);
  });

  it("telemetry reported before a decision is what the decision sees, even on a fresh sample", () => {
    const { cache, agents, builds } = setup();
    cache.get(0);
    agents.set("a", signals(99)); // a's agent now reports cpu pressure; its previous sample is only 1 ms old
    cache.liveChanged("a");
    const d = where(cache, 1, makePod("p"));
    expect(d.node).toBe("b");
    expect(d.rejections).toEqual([{ node: "a", filter: "LivePressure", reason: "node(s) had cpu pressure" }]);
    agents.set("a", signals(5));
    cache.liveChanged("a");
    expect(where(cache, 2, makePod("p")).feasible).toBe(2);
    expect(builds()).toBe(1);
  });
});
