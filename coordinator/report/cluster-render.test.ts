import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ClusterNodeReportSchema, ClusterSummarySchema } from "../../proto/index.ts";
import { formatBytes, renderClusterSection } from "./cluster-render.ts";

const GI = 1024n ** 3n;
const MI = 1024n ** 2n;

describe("renderClusterSection", () => {
  it("prints the old tool's sections with capacity, allocatable, requested, used and live", () => {
    const node = (name: string) =>
      create(ClusterNodeReportSchema, {
        name,
        ready: true,
        hasAgent: true,
        cpuCapacityMillis: 4000n,
        cpuAllocatableMillis: 3800n,
        cpuRequestedMillis: 1200n,
        cpuUsedMillis: 650n,
        cpuLivePercent: 17.2,
        memoryCapacityBytes: 8n * GI,
        memoryAllocatableBytes: 7680n * MI,
        memoryRequestedBytes: 2n * GI,
        memoryUsedBytes: 3328599654n, // 3.1Gi
        memoryLivePercent: 41,
      });
    const summary = create(ClusterSummarySchema, {
      totalNodes: 3,
      readyNodes: 3,
      totalPods: 12,
      runningPods: 12,
      nodeHealthPercent: 100,
      podHealthPercent: 100,
      metricsAvailable: true,
      nodes: [node("k3s-node-1")],
      agentsWithoutNode: ["edge-7"],
    });
    expect(renderClusterSection(summary)).toBe(
      [
        "Cluster Health:",
        "  Total Nodes: 3",
        "  Ready Nodes: 3",
        "  Total Pods: 12",
        "  Running Pods: 12",
        "  Node Health: 100.00%",
        "  Pod Health: 100.00%",
        "",
        "Node Metrics:",
        "  k3s-node-1:",
        "    CPU: capacity 4000m  allocatable 3800m  requested 1200m  used 650m  live 17.2%",
        "    Memory: capacity 8Gi  allocatable 7.5Gi  requested 2Gi  used 3.1Gi  live 41.0%",
        "  Agents without a Kubernetes node: edge-7",
      ].join("\n"),
    );
  });

  it("says what is unknown: no metrics-server, no agent, agent offline, node state", () => {
    const summary = create(ClusterSummarySchema, {
      totalNodes: 2,
      readyNodes: 1,
      totalPods: 3,
      runningPods: 1,
      nodeHealthPercent: 50,
      podHealthPercent: 100 / 3,
      metricsAvailable: false,
      nodes: [
        create(ClusterNodeReportSchema, { name: "a", ready: false, unschedulable: true, hasAgent: false }),
        create(ClusterNodeReportSchema, { name: "b", ready: true, hasAgent: true, cpuCapacityMillis: 2000n }),
      ],
    });
    const text = renderClusterSection(summary);
    expect(text).toContain(
      "  Pod Health: 33.33%\n  Metrics: metrics.k8s.io not available (no used values)\n",
    );
    expect(text).toContain("  a (NotReady, SchedulingDisabled, no agent):\n    CPU: capacity 0m");
    expect(text).toContain(
      "  b (agent offline):\n    CPU: capacity 2000m  allocatable 0m  requested 0m  used n/a  live n/a",
    );
    expect(text).not.toContain("Agents without");
  });

  it("says when there are no nodes", () => {
    expect(renderClusterSection(create(ClusterSummarySchema, {}))).toContain("Node Metrics: no nodes");
  });
});

describe("formatBytes", () => {
  it.each([
    [0n, "0"],
    [512n, "512"],
    [1024n, "1Ki"],
    [1536n, "1.5Ki"],
    [512n * MI, "512Mi"],
    [8n * GI, "8Gi"],
    [7680n * MI, "7.5Gi"],
    [GI - 1n, "1Gi"], // 1023.99…Mi rounds up to the next unit, not "1024Mi"
    [1024n * GI, "1Ti"],
    [-2n * MI, "-2Mi"],
  ])("%s → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
