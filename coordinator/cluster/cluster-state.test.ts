import { describe, expect, it } from "vitest";
import { makeNode, makePod, type NodeSpecInput, type PodSpecInput } from "../../test/fake-apiserver/index.ts";
import {
  buildClusterState,
  cpuMillis,
  healthPercent,
  memoryBytes,
  type NodeLike,
  type PodLike,
} from "./cluster-state.ts";

const GI = 1024n ** 3n;
const MI = 1024n ** 2n;

// The builders type quantities as string | number (kubernetes-models); they only ever produce strings.
const node = (input: NodeSpecInput) => makeNode(input) as NodeLike;

function pod(input: PodSpecInput & { phase?: string }): PodLike {
  const manifest = makePod(input);
  return { ...manifest, status: { phase: input.phase ?? "Pending" } } as PodLike;
}

describe("quantities", () => {
  it.each([
    [{ cpu: "4" }, 4000n],
    [{ cpu: "3800m" }, 3800n],
    [{ cpu: "250000000n" }, 250n],
    [{ cpu: "0.1" }, 100n],
    [{ cpu: "1u" }, 1n], // MilliValue rounds up
    [{}, 0n],
    [{ cpu: "bogus" }, 0n],
  ])("cpu %j → %s m", (list, expected) => {
    expect(cpuMillis(list)).toBe(expected);
  });

  it.each([
    [{ memory: "8Gi" }, 8n * GI],
    [{ memory: "524288Ki" }, 512n * MI],
    [{ memory: "1G" }, 1_000_000_000n],
    [{ memory: "1.5Gi" }, 3n * 512n * MI],
    [undefined, 0n],
  ])("memory %j → %s bytes", (list, expected) => {
    expect(memoryBytes(list)).toBe(expected);
  });

  it.each([
    [3, 3, 100],
    [1, 4, 25],
    [0, 0, 0],
  ])("health %i/%i = %f", (ok, total, pct) => {
    expect(healthPercent(ok, total)).toBe(pct);
  });
});

describe("buildClusterState", () => {
  const nodes = [
    node({ name: "n2", cpu: "2", memory: "4Gi" }),
    node({ name: "n1", cpu: "4", memory: "8Gi", allocatable: { cpu: "3800m", memory: "7680Mi" } }),
    node({ name: "n3", ready: false, unschedulable: true }),
  ];

  it("counts nodes, pods, health and per-node requests", () => {
    const pods = [
      pod({ name: "a", nodeName: "n1", phase: "Running", requests: { cpu: "500m", memory: "1Gi" } }),
      pod({ name: "b", nodeName: "n1", phase: "Running", requests: { cpu: "700m", memory: "1Gi" } }),
      // Finished: counted in Total Pods, not in the node's requests nor in the health denominator.
      pod({ name: "done", nodeName: "n1", phase: "Succeeded", requests: { cpu: "2", memory: "2Gi" } }),
      pod({ name: "crashed", nodeName: "n2", phase: "Failed", requests: { cpu: "1" } }),
      // Pending but bound: it holds its requests.
      pod({ name: "starting", nodeName: "n2", phase: "Pending", requests: { cpu: "100m", memory: "64Mi" } }),
      pod({ name: "unbound", phase: "Pending", requests: { cpu: "1" } }),
      pod({ name: "elsewhere", nodeName: "gone-node", phase: "Running", requests: { cpu: "1" } }),
    ];
    const state = buildClusterState(nodes, pods);
    expect(state).toMatchObject({
      totalNodes: 3,
      readyNodes: 2,
      totalPods: 7,
      runningPods: 3,
      succeededPods: 1,
      invalidPods: 0,
    });
    expect(state.nodeHealthPercent).toBeCloseTo((2 / 3) * 100, 10);
    expect(state.podHealthPercent).toBe(50); // 3 running of 6 that are not Succeeded
    expect(state.nodes.map((n) => n.name)).toEqual(["n1", "n2", "n3"]);
    expect(state.nodes[0]).toEqual({
      name: "n1",
      ready: true,
      unschedulable: false,
      pods: 2,
      cpuCapacityMillis: 4000n,
      cpuAllocatableMillis: 3800n,
      cpuRequestedMillis: 1200n,
      memoryCapacityBytes: 8n * GI,
      memoryAllocatableBytes: 7680n * MI,
      memoryRequestedBytes: 2n * GI,
    });
    expect(state.nodes[1]).toMatchObject({
      pods: 1,
      cpuRequestedMillis: 100n,
      memoryRequestedBytes: 64n * MI,
    });
    expect(state.nodes[2]).toMatchObject({
      ready: false,
      unschedulable: true,
      pods: 0,
      cpuRequestedMillis: 0n,
    });
  });

  it("sums effective requests: init containers by max, sidecars and overhead added", () => {
    const p = pod({
      name: "init",
      nodeName: "n1",
      phase: "Running",
      requests: { cpu: "200m", memory: "100Mi" },
    });
    const withInit = {
      ...p,
      spec: {
        ...p.spec,
        initContainers: [{ name: "migrate", resources: { requests: { cpu: "1", memory: "50Mi" } } }],
        overhead: { cpu: "10m" },
      },
    } as PodLike;
    const state = buildClusterState(nodes, [withInit]);
    expect(state.nodes[0]).toMatchObject({ cpuRequestedMillis: 1010n, memoryRequestedBytes: 100n * MI });
  });

  it("leaves a pod with an unparseable request out of the sums and counts it", () => {
    const bad = pod({ name: "bad", nodeName: "n1", phase: "Running" });
    const broken = {
      ...bad,
      spec: { containers: [{ name: "c", resources: { requests: { cpu: "lots" } } }], nodeName: "n1" },
    } as PodLike;
    const state = buildClusterState(nodes, [broken]);
    expect(state.invalidPods).toBe(1);
    expect(state.nodes[0]).toMatchObject({ pods: 1, cpuRequestedMillis: 0n });
  });

  it("is all zeros for an empty cluster", () => {
    expect(buildClusterState([], [])).toEqual({
      totalNodes: 0,
      readyNodes: 0,
      totalPods: 0,
      runningPods: 0,
      succeededPods: 0,
      nodeHealthPercent: 0,
      podHealthPercent: 0,
      nodes: [],
      invalidPods: 0,
    });
  });
});
