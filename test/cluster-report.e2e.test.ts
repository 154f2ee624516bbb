import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderReport } from "../coordinator/report/render.ts";
import type { CoordinatorService } from "../coordinator/service.ts";
import { topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, startFakeApiServer } from "./fake-apiserver/index.ts";
import {
  announceReportAgents,
  expectReportCluster,
  REPORT_NODES,
  reportPod,
  reportWithCluster,
} from "./support/cluster-report.ts";
import { startClusterService } from "./support/cluster-service.ts";
import { BROKER_DEFAULTS } from "./support/defaults.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();

describe("coordinator service with a Kubernetes cluster", () => {
  let api: FakeApiServer;
  let service: CoordinatorService;

  beforeAll(async () => {
    api = await startFakeApiServer();
    for (const node of REPORT_NODES) api.addNode(makeNode(node));
    api.addPod(reportPod());
    api.setPodPhase("default", "web", "Running");
    api.setNodeMetrics("k3s-node-1", { cpu: "650m", memory: "3Gi" });
    service = await startClusterService({
      kubeconfigPath: api.kubeconfigPath,
      topicRoot: topics.root,
      logger,
      metricsIntervalMs: 200,
      extra: {
        embeddedBroker: {
          ...BROKER_DEFAULTS,
          host: "127.0.0.1",
          port: 0,
          maxPacketBytes: 1 << 24,
          refusedPublish: "drop",
        },
        defaultIntervalMs: 1000,
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await api?.close();
  });

  it("reports cluster health, per-node capacity/requests/usage, live agent values, and agents without a node", async () => {
    expect(service.cluster).toBeDefined();
    // An agent on k3s-node-1 (joined by k8s_node_name) and one on a machine Kubernetes does not know.
    await announceReportAgents(service.broker?.url ?? "", topics);

    const report = await reportWithCluster(service, true, 10_000);

    expectReportCluster(report, true);
    const c = report.cluster;
    expect(c?.nodeHealthPercent).toBe(50);
    expect(c?.podHealthPercent).toBe(100);
    // metrics.k8s.io usage (650m, 3 GiB set on the fake).
    expect(c?.nodes.find((n) => n.name === "k3s-node-1")).toMatchObject({
      cpuUsedMillis: 650n,
      memoryUsedBytes: 3n * 1024n ** 3n,
    });

    const text = renderReport(report);
    expect(text).toMatch(/Cluster Health:\n\s+Total Nodes: 2\n\s+Ready Nodes: 1/);
    expect(text).toContain("k3s-node-1");
    expect(text).toContain("edge-7");
  });
});
