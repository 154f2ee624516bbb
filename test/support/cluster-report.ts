// The cluster-report scenario both API servers run (test/cluster-report.e2e.test.ts on the fake one,
// test/real-apiserver/cluster-report.e2e.test.ts on a real kube-apiserver): two nodes, k3s-node-1 Ready
// with 4 CPU / 8 GiB and a running pod "web" requesting 500m / 256Mi, k3s-node-2 not Ready; an agent
// joined to k3s-node-1 (17.5 % CPU) and one on a machine Kubernetes does not know (edge-7).
import mqtt from "mqtt";
import { expect } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import type { FleetReport, Topics } from "../../proto/index.ts";
import { makePod, type NodeSpecInput } from "../fake-apiserver/builders.ts";
import { announceAgent } from "./announce-agent.ts";
import { until } from "./until.ts";

export const REPORT_NODES: readonly NodeSpecInput[] = [
  { name: "k3s-node-1", cpu: "4", memory: "8Gi" },
  { name: "k3s-node-2", cpu: "2", memory: "4Gi", ready: false },
];

export const reportPod = () =>
  makePod({ name: "web", nodeName: "k3s-node-1", requests: { cpu: "500m", memory: "256Mi" } });

/** Publishes the two agents as they would announce themselves, then disconnects. */
export async function announceReportAgents(brokerUrl: string, topics: Topics): Promise<void> {
  const agent = await mqtt.connectAsync(brokerUrl, { clientId: "fake-agents" });
  await announceAgent(agent, topics, {
    nodeId: "agent-1",
    k8sNodeName: "k3s-node-1",
    sample: { cpu: 17.5, memory: 40, timeMs: Date.now() },
  });
  await announceAgent(agent, topics, { nodeId: "edge-7", online: false });
  await agent.endAsync();
}

/** What the report's cluster section says of the scenario on any API server (usage figures aside). */
export function expectReportCluster(report: FleetReport, metricsAvailable: boolean): void {
  expect(report.mode).toBe("cluster");
  const c = report.cluster;
  expect(c).toMatchObject({ totalNodes: 2, readyNodes: 1, totalPods: 1, runningPods: 1, metricsAvailable });
  expect(c?.agentsWithoutNode).toEqual(["edge-7"]);
  expect(c?.nodes.find((n) => n.name === "k3s-node-1")).toMatchObject({
    ready: true,
    hasAgent: true,
    cpuCapacityMillis: 4000n,
    cpuRequestedMillis: 500n,
    memoryRequestedBytes: 256n * 1024n * 1024n,
  });
  expect(c?.nodes.find((n) => n.name === "k3s-node-1")?.cpuLivePercent).toBeCloseTo(17.5);
  expect(c?.nodes.find((n) => n.name === "k3s-node-2")).toMatchObject({ ready: false, hasAgent: false });
}

/** The first report whose cluster section has the live agent values (and, `withUsage`, metrics.k8s.io usage). */
export function reportWithCluster(
  service: CoordinatorService,
  withUsage: boolean,
  timeoutMs: number,
): Promise<FleetReport> {
  return until(
    () => {
      const r = service.coordinator.buildReportNow();
      const n1 = r.cluster?.nodes.find((n) => n.name === "k3s-node-1");
      const ready =
        n1?.cpuLivePercent !== undefined &&
        (!withUsage || n1.cpuUsedMillis !== undefined) &&
        r.cluster?.agentsWithoutNode.length &&
        r.cluster.runningPods;
      return ready ? r : undefined;
    },
    timeoutMs,
    withUsage ? "cluster section with metrics and live values" : "cluster section with live values",
  );
}
