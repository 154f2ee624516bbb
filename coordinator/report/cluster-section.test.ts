import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClusterSummarySchema } from "../../proto/index.ts";
import { makeNode, makePod } from "../../test/fake-apiserver/index.ts";
import type { NodeLike, PodLike, ResourceUsage } from "../cluster/cluster-state.ts";
import { type AgentLive, buildClusterSummary, type ClusterReportInput } from "./cluster-section.ts";

const GI = 1024n ** 3n;

const running = (name: string, nodeName: string, cpu: string, memory: string): PodLike =>
  ({ ...makePod({ name, nodeName, requests: { cpu, memory } }), status: { phase: "Running" } }) as PodLike;

function input(overrides: Partial<ClusterReportInput> = {}): ClusterReportInput {
  return {
    server: "https://10.0.0.1:6443",
    nodes: [makeNode({ name: "k3s-node-1" }), makeNode({ name: "k3s-node-2", ready: false })] as NodeLike[],
    pods: [running("web", "k3s-node-1", "1200m", "2Gi")],
    metrics: {
      available: true,
      nodes: new Map<string, ResourceUsage>([["k3s-node-1", { cpuMillis: 650n, memoryBytes: 3n * GI }]]),
    },
    live: new Map<string, AgentLive>([
      ["k3s-node-1", { cpuPercent: 17.2, memoryPercent: 41, online: true }],
      ["edge-7", { cpuPercent: 5, memoryPercent: 10, online: true }],
    ]),
    ...overrides,
  };
}

describe("buildClusterSummary", () => {
  it("joins nodes, metrics and agents by node name", () => {
    const summary = buildClusterSummary(input());
    expect(summary).toMatchObject({
      server: "https://10.0.0.1:6443",
      totalNodes: 2,
      readyNodes: 1,
      totalPods: 1,
      runningPods: 1,
      nodeHealthPercent: 50,
      podHealthPercent: 100,
      metricsAvailable: true,
      agentsWithoutNode: ["edge-7"],
    });
    const [one, two] = summary.nodes;
    expect(one).toMatchObject({
      name: "k3s-node-1",
      ready: true,
      pods: 1,
      cpuCapacityMillis: 4000n,
      cpuAllocatableMillis: 4000n,
      cpuRequestedMillis: 1200n,
      cpuUsedMillis: 650n,
      cpuLivePercent: 17.2,
      memoryCapacityBytes: 8n * GI,
      memoryRequestedBytes: 2n * GI,
      memoryUsedBytes: 3n * GI,
      memoryLivePercent: 41,
      hasAgent: true,
    });
    // A node without an agent or metrics: the optional fields are absent, not zero.
    expect(two).toMatchObject({ name: "k3s-node-2", ready: false, hasAgent: false });
    expect(two?.cpuUsedMillis).toBeUndefined();
    expect(two?.cpuLivePercent).toBeUndefined();
    expect(two?.memoryUsedBytes).toBeUndefined();
    expect(two?.memoryLivePercent).toBeUndefined();
  });

  it("reports no used values when metrics.k8s.io is unavailable", () => {
    const summary = buildClusterSummary(
      input({
        metrics: { available: false, nodes: new Map([["k3s-node-1", { cpuMillis: 1n, memoryBytes: 1n }]]) },
      }),
    );
    expect(summary.metricsAvailable).toBe(false);
    expect(summary.nodes.map((n) => n.cpuUsedMillis)).toEqual([undefined, undefined]);
  });

  it("counts an offline agent as present but without live values", () => {
    const summary = buildClusterSummary(
      input({ live: new Map([["k3s-node-1", { cpuPercent: 99, memoryPercent: 99, online: false }]]) }),
    );
    expect(summary.nodes[0]).toMatchObject({ hasAgent: true });
    expect(summary.nodes[0]?.cpuLivePercent).toBeUndefined();
    expect(summary.agentsWithoutNode).toEqual([]);
  });

  it("names agents without a node by their agent id when given, sorted", () => {
    const live = new Map<string, AgentLive>([
      ["z-host", { cpuPercent: 1, memoryPercent: 1, online: true }],
      ["b-host", { cpuPercent: 1, memoryPercent: 1, online: false, agentId: "agent-b" }],
    ]);
    expect(buildClusterSummary(input({ live })).agentsWithoutNode).toEqual(["agent-b", "z-host"]);
  });

  it("has a canonical proto3 JSON form (int64 as strings, optional fields omitted)", () => {
    const json = toJson(ClusterSummarySchema, buildClusterSummary(input())) as {
      nodes: Array<Record<string, unknown>>;
    };
    expect(json.nodes[0]).toMatchObject({ cpuCapacityMillis: "4000", cpuUsedMillis: "650", hasAgent: true });
    expect(json.nodes[1]).not.toHaveProperty("cpuUsedMillis");
  });
});
