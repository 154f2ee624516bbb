// The whole cluster view with the real client-node against the fake API server: summary numbers checked
// against the objects created, metrics appearing when metrics-server does, and a clean stop.
import { EventEmitter } from "node:events";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type FakeApiServer,
  makeNode,
  makePod,
  startFakeApiServer,
} from "../../test/fake-apiserver/index.ts";
import { renderClusterSection } from "../report/cluster-render.ts";
import type { AgentLive } from "../report/cluster-section.ts";
import type { ClusterView } from "./cluster.ts";
import { startClusterView } from "./cluster.ts";
import type { ClusterEmitter } from "./events.ts";

const GI = 1024n ** 3n;
const MI = 1024n ** 2n;

let api: FakeApiServer;
let view: ClusterView;
const events: ClusterEmitter = new EventEmitter();
const seen: string[] = [];

beforeAll(async () => {
  api = await startFakeApiServer({ metricsAvailable: false });
  api.addNode(
    makeNode({ name: "n1", cpu: "4", memory: "8Gi", allocatable: { cpu: "3800m", memory: "7680Mi" } }),
  );
  api.addNode(makeNode({ name: "n2", cpu: "2", memory: "4Gi" }));
  api.addNode(makeNode({ name: "n3", ready: false }));
  const pod = (
    name: string,
    nodeName: string | undefined,
    cpu: string,
    memory: string,
    namespace = "default",
  ) => api.addPod(makePod({ name, namespace, nodeName, requests: { cpu, memory } }));
  pod("web-1", "n1", "500m", "1Gi");
  pod("web-2", "n1", "700m", "1Gi", "kube-system");
  pod("job-done", "n1", "2", "4Gi"); // Succeeded: its requests must not count
  pod("job-failed", "n2", "1", "1Gi"); // Failed: neither
  pod("starting", "n2", "250m", "256Mi"); // Pending on n2: counts
  pod("unbound", undefined, "1", "1Gi"); // Pending, no node
  api.setPodPhase("default", "web-1", "Running");
  api.setPodPhase("kube-system", "web-2", "Running");
  api.setPodPhase("default", "job-done", "Succeeded");
  api.setPodPhase("default", "job-failed", "Failed");

  events.on("resync", (kind) => seen.push(`resync ${kind}`));
  events.on("metrics", (m) => seen.push(`metrics ${m.available}`));
  view = await startClusterView({
    kc: api.kubeConfig(),
    logger: pino({ level: "silent" }),
    metricsIntervalMs: 100,
    events,
  });
  await view.whenSynced();
});
afterAll(async () => {
  await view.stop();
  await api.close();
});

const live = new Map<string, AgentLive>([
  ["n1", { cpuPercent: 17.25, memoryPercent: 41, online: true }],
  ["edge-7", { cpuPercent: 3, memoryPercent: 9, online: true }],
]);

describe("startClusterView", () => {
  it("serves nodes and pods from the informer caches", () => {
    expect(view.server).toBe(api.url);
    expect(view.synced()).toBe(true);
    expect(
      view
        .nodes()
        .map((n) => n.metadata?.name)
        .sort(),
    ).toEqual(["n1", "n2", "n3"]);
    expect(view.pods()).toHaveLength(6);
    expect(view.node("n3")?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("Unknown");
    expect(seen).toEqual(expect.arrayContaining(["resync node", "resync pod", "metrics false"]));
  });

  it("summarises the cluster as created: health, requests over non-terminated pods, agents", () => {
    const summary = view.summary(live);
    expect(summary).toMatchObject({
      server: api.url,
      totalNodes: 3,
      readyNodes: 2,
      totalPods: 6,
      runningPods: 2,
      metricsAvailable: false,
      agentsWithoutNode: ["edge-7"],
    });
    expect(summary.nodeHealthPercent).toBeCloseTo(66.6667, 3);
    expect(summary.podHealthPercent).toBe(40); // 2 running of the 5 pods that did not succeed
    const [n1, n2, n3] = summary.nodes;
    expect(n1).toMatchObject({
      name: "n1",
      pods: 2,
      cpuCapacityMillis: 4000n,
      cpuAllocatableMillis: 3800n,
      cpuRequestedMillis: 1200n,
      memoryCapacityBytes: 8n * GI,
      memoryAllocatableBytes: 7680n * MI,
      memoryRequestedBytes: 2n * GI,
      hasAgent: true,
      cpuLivePercent: 17.25,
      memoryLivePercent: 41,
    });
    expect(n1?.cpuUsedMillis).toBeUndefined();
    expect(n2).toMatchObject({
      name: "n2",
      pods: 1,
      cpuRequestedMillis: 250n,
      memoryRequestedBytes: 256n * MI,
    });
    expect(n2).toMatchObject({ hasAgent: false });
    expect(n3).toMatchObject({ name: "n3", ready: false, pods: 0, cpuRequestedMillis: 0n });
  });

  it("follows changes: a pod finishing releases its requests", async () => {
    api.addPod(makePod({ name: "batch", nodeName: "n2", requests: { cpu: "100m", memory: "64Mi" } }));
    api.setPodPhase("default", "batch", "Running");
    await vi.waitFor(() => expect(view.summary().nodes[1]?.cpuRequestedMillis).toBe(350n));
    expect(view.summary().runningPods).toBe(3);
    api.setPodPhase("default", "batch", "Succeeded");
    await vi.waitFor(() => expect(view.summary().nodes[1]?.cpuRequestedMillis).toBe(250n));
    expect(view.summary()).toMatchObject({ totalPods: 7, runningPods: 2 });
    expect(view.summary().nodes[1]?.pods).toBe(1);
  });

  it("shows used values once metrics-server appears, picked up by the poll", async () => {
    api.setMetricsAvailable(true);
    api.setNodeMetrics("n1", { cpu: "650m", memory: "3Gi" });
    api.setNodeMetrics("n2", { cpu: "100000000n", memory: "512Mi" });
    await vi.waitFor(() => expect(view.metrics().available).toBe(true));
    const summary = view.summary(live);
    expect(summary.metricsAvailable).toBe(true);
    expect(summary.nodes.map((n) => [n.name, n.cpuUsedMillis, n.memoryUsedBytes])).toEqual([
      ["n1", 650n, 3n * GI],
      ["n2", 100n, 512n * MI],
      ["n3", undefined, undefined],
    ]);
    expect(seen).toContain("metrics true");
    const text = renderClusterSection(summary);
    expect(text).toContain(
      "  n1:\n    CPU: capacity 4000m  allocatable 3800m  requested 1200m  used 650m  live 17.3%\n" +
        "    Memory: capacity 8Gi  allocatable 7.5Gi  requested 2Gi  used 3Gi  live 41.0%",
    );
    expect(text).toContain("  n3 (NotReady, no agent):");
    expect(text).toContain("  Agents without a Kubernetes node: edge-7");
  });

  it("stops: no watches left open and no more polling", async () => {
    const own = await startFakeApiServer();
    try {
      const other = await startClusterView({
        kc: own.kubeConfig(),
        logger: pino({ level: "silent" }),
        metricsIntervalMs: 20,
      });
      await other.whenSynced();
      // nodes, pods, claims, volumes, storage classes
      await vi.waitFor(() => expect(own.openWatches()).toBe(5));
      await other.stop();
      await vi.waitFor(() => expect(own.openWatches()).toBe(0));
      const count = own.requests().length;
      await new Promise((r) => setTimeout(r, 100));
      expect(own.requests()).toHaveLength(count);
      await expect(other.whenSynced()).resolves.toBeUndefined(); // it had synced before stopping
    } finally {
      await own.close();
    }
  });
});
