// The coordinator service against a Kubernetes API (the fake server, driven by the real client): the fleet
// report gains the cluster section, joining agents to nodes by name.
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "../coordinator/report/render.ts";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { encode, topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./fake-apiserver/index.ts";
import { birth, status, telemetry } from "./support/fleet-messages.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();

describe("coordinator service with a Kubernetes cluster", () => {
  let api: FakeApiServer;
  let service: CoordinatorService;

  beforeAll(async () => {
    api = await startFakeApiServer();
    api.addNode(makeNode({ name: "k3s-node-1", cpu: "4", memory: "8Gi" }));
    api.addNode(makeNode({ name: "k3s-node-2", cpu: "2", memory: "4Gi", ready: false }));
    api.addPod(makePod({ name: "web", nodeName: "k3s-node-1", requests: { cpu: "500m", memory: "256Mi" } }));
    api.setPodPhase("default", "web", "Running");
    api.setNodeMetrics("k3s-node-1", { cpu: "650m", memory: "3Gi" });
    service = await startCoordinatorService(
      testServiceOptions({
        embeddedBroker: { host: "127.0.0.1", port: 0, maxPacketBytes: 1 << 24, refusedPublish: "drop" },
        topicRoot: topics.root,
        defaultIntervalMs: 1000,
        kubernetes: {
          kubeconfigPath: api.kubeconfigPath,
          env: {},
          connectTimeoutMs: 5000,
          metricsIntervalMs: 200,
        },
        logger,
      }),
    );
  });

  afterAll(async () => {
    await service?.stop();
    await api?.close();
  });

  it("reports cluster health, per-node capacity/requests/usage, live agent values, and agents without a node", async () => {
    expect(service.cluster).toBeDefined();
    const agent = await mqtt.connectAsync(service.broker?.url ?? "", { clientId: "fake-agents" });
    // An agent on k3s-node-1 (joined by k8s_node_name) and one on a machine Kubernetes does not know.
    const onNode = { ...birth({ session: 1, nodeId: "agent-1" }), k8sNodeName: "k3s-node-1" };
    await agent.publishAsync(topics.birth("agent-1"), Buffer.from(encode("birth", onNode)), {
      qos: 1,
      retain: true,
    });
    await agent.publishAsync(
      topics.nodeStatus("agent-1"),
      Buffer.from(encode("nodeStatus", status("online", 1))),
      {
        qos: 1,
      },
    );
    await agent.publishAsync(
      topics.telemetry("agent-1"),
      Buffer.from(
        encode("telemetry", telemetry({ session: 1, seq: 1, cpu: 17.5, memory: 40, timeMs: Date.now() })),
      ),
      { qos: 1 },
    );
    const stray = birth({ session: 1, nodeId: "edge-7" });
    await agent.publishAsync(topics.birth("edge-7"), Buffer.from(encode("birth", stray)), {
      qos: 1,
      retain: true,
    });
    await agent.endAsync();

    const report = await until(
      () => {
        const r = service.coordinator.buildReportNow();
        const n1 = r.cluster?.nodes.find((n) => n.name === "k3s-node-1");
        return n1?.cpuUsedMillis !== undefined &&
          n1.cpuLivePercent !== undefined &&
          r.cluster?.agentsWithoutNode.length
          ? r
          : undefined;
      },
      10_000,
      "cluster section with metrics and live values",
    );

    expect(report.mode).toBe("cluster");
    const c = report.cluster;
    expect(c).toMatchObject({
      totalNodes: 2,
      readyNodes: 1,
      totalPods: 1,
      runningPods: 1,
      metricsAvailable: true,
    });
    expect(c?.nodeHealthPercent).toBe(50);
    expect(c?.podHealthPercent).toBe(100);
    expect(c?.agentsWithoutNode).toEqual(["edge-7"]);
    const n1 = c?.nodes.find((n) => n.name === "k3s-node-1");
    expect(n1).toMatchObject({
      ready: true,
      hasAgent: true,
      cpuCapacityMillis: 4000n,
      cpuRequestedMillis: 500n,
      cpuUsedMillis: 650n,
      memoryRequestedBytes: 256n * 1024n * 1024n,
      memoryUsedBytes: 3n * 1024n ** 3n,
    });
    expect(n1?.cpuLivePercent).toBeCloseTo(17.5);
    expect(c?.nodes.find((n) => n.name === "k3s-node-2")).toMatchObject({ ready: false, hasAgent: false });

    const text = renderReport(report);
    expect(text).toMatch(/Cluster Health:\n\s+Total Nodes: 2\n\s+Ready Nodes: 1/);
    expect(text).toContain("k3s-node-1");
    expect(text).toContain("edge-7");
  });
});
