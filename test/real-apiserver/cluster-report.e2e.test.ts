// The coordinator's view of a real kube-apiserver + etcd (cluster-report.e2e.test.ts does this against the
// fake): the report's cluster section from informers, and what a cluster without metrics-server looks like
// (no metrics.k8s.io: the coordinator says so and carries on). Also the two API behaviours the fake mirrors
// and the informers rely on: a watch from a compacted resourceVersion is answered 410 Expired, and a
// watch from a current one streams the changes.
import { Metrics, type V1Pod, Watch } from "@kubernetes/client-node";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpStatusOf } from "../../coordinator/cluster/errors.ts";
import { metricsSource } from "../../coordinator/cluster/metrics-source.ts";
import { renderReport } from "../../coordinator/report/render.ts";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { encode, topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { birth, status, telemetry } from "../support/fleet-messages.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import { until } from "../support/until.ts";
import {
  addNode,
  addPod,
  type RealCluster,
  setPodPhase,
  startCoordinatorOn,
  startRealCluster,
} from "./cluster.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const available = realApiServerAvailable();

describe.skipIf(!available)("coordinator with a real kube-apiserver (no metrics-server)", () => {
  let cluster: RealCluster;
  let service: CoordinatorService;

  beforeAll(async () => {
    cluster = await startRealCluster();
    const { core } = cluster;
    await addNode(core, { name: "k3s-node-1", cpu: "4", memory: "8Gi" });
    await addNode(core, { name: "k3s-node-2", cpu: "2", memory: "4Gi", ready: false });
    await addPod(
      core,
      makePod({ name: "web", nodeName: "k3s-node-1", requests: { cpu: "500m", memory: "256Mi" } }),
    );
    await setPodPhase(core, "default", "web", "Running");
    service = await startCoordinatorOn(cluster, {
      topicRoot: topics.root,
      logger,
      metricsIntervalMs: 200,
      defaultIntervalMs: 1000,
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
  }, 60_000);

  it("reports cluster health, capacity and requests, live agent values, and says metrics are unavailable", async () => {
    expect(service.cluster).toBeDefined();
    const agent = await mqtt.connectAsync(service.broker?.url ?? "", { clientId: "fake-agents" });
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
    await agent.publishAsync(
      topics.birth("edge-7"),
      Buffer.from(encode("birth", birth({ session: 1, nodeId: "edge-7" }))),
      {
        qos: 1,
        retain: true,
      },
    );
    await agent.endAsync();

    const report = await until(
      () => {
        const r = service.coordinator.buildReportNow();
        const n1 = r.cluster?.nodes.find((n) => n.name === "k3s-node-1");
        return n1?.cpuLivePercent !== undefined &&
          r.cluster?.agentsWithoutNode.length &&
          r.cluster.runningPods
          ? r
          : undefined;
      },
      15_000,
      "cluster section with live values",
    );
    expect(report.mode).toBe("cluster");
    const c = report.cluster;
    expect(c).toMatchObject({
      totalNodes: 2,
      readyNodes: 1,
      totalPods: 1,
      runningPods: 1,
      metricsAvailable: false,
    });
    expect(c?.agentsWithoutNode).toEqual(["edge-7"]);
    const n1 = c?.nodes.find((n) => n.name === "k3s-node-1");
    expect(n1).toMatchObject({
      ready: true,
      hasAgent: true,
      cpuCapacityMillis: 4000n,
      cpuRequestedMillis: 500n,
      memoryRequestedBytes: 256n * 1024n * 1024n,
    });
    // No metrics-server: no usage figures are made up.
    expect(n1?.cpuUsedMillis).toBeUndefined();
    expect(n1?.memoryUsedBytes).toBeUndefined();
    expect(n1?.cpuLivePercent).toBeCloseTo(17.5);
    expect(c?.nodes.find((n) => n.name === "k3s-node-2")).toMatchObject({ ready: false, hasAgent: false });
    const text = renderReport(report);
    expect(text).toMatch(/Cluster Health:\n\s+Total Nodes: 2\n\s+Ready Nodes: 1/);
  }, 60_000);

  it("has no metrics.k8s.io: the coordinator's metrics source reads that as absent (404), not as a failure", async () => {
    const kc = cluster.api.kubeConfig();
    // Upstream answers an unserved group's path with the plain text "404 page not found" (the fake answers a
    // JSON Status): client-node cannot parse it and reports a 500.
    const raw = await new Metrics(kc).getNodeMetrics().catch((e: unknown) => e);
    expect(raw).toMatchObject({
      code: 500,
      message: expect.stringContaining("Error occurred in metrics request"),
    });
    const err = await metricsSource(kc)
      .getNodeMetrics()
      .catch((e: unknown) => e);
    expect(httpStatusOf(err)).toBe(404);
    expect(service.cluster?.metrics().available).toBe(false);
  });

  it("answers a watch from a compacted resourceVersion with 410 Expired (what makes informers relist)", async () => {
    const { core, api } = cluster;
    const old = (await core.listNamespacedPod({ namespace: "default" })).metadata?.resourceVersion ?? "";
    await addPod(core, makePod({ name: "bump" }));
    await api.compact();
    await api.restartApiServer(); // a fresh watch cache starts at the compacted revision
    const events: Array<{ type: string; code?: number; reason?: string }> = [];
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(api.kubeConfig()).watch(
        "/api/v1/namespaces/default/pods",
        { resourceVersion: old },
        (type, obj: { code?: number; reason?: string }) =>
          events.push({ type, code: obj.code, reason: obj.reason }),
        resolve,
      );
    });
    const error = await Promise.race([ended, new Promise((r) => setTimeout(r, 15_000, "still open"))]);
    const gone = events.find((e) => e.type === "ERROR") ?? {
      code: (error as { statusCode?: number })?.statusCode,
    };
    expect(gone).toMatchObject({ code: 410 });
  }, 60_000);

  it("streams changes to a watch from a current resourceVersion", async () => {
    const { core, api } = cluster;
    const rv = (await core.listNamespacedPod({ namespace: "default" })).metadata?.resourceVersion;
    const seen: string[] = [];
    const req = await new Watch(api.kubeConfig()).watch(
      "/api/v1/namespaces/default/pods",
      { resourceVersion: rv },
      (type, obj: V1Pod) => seen.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    await addPod(core, makePod({ name: "watched" }));
    await until(() => seen.includes("ADDED watched"), 10_000, "ADDED event");
    req.abort();
  }, 30_000);
});
