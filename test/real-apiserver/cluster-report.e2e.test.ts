// The coordinator's view of a real kube-apiserver + etcd (cluster-report.e2e.test.ts does this against the
// fake): the report's cluster section from informers, and what a cluster without metrics-server looks like
// (no metrics.k8s.io: the coordinator says so and carries on). Also the two API behaviours the fake mirrors
// and the informers rely on: a watch from a compacted resourceVersion is answered 410 Expired, and a
// watch from a current one streams the changes.
import { Metrics, type V1Pod, Watch } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpStatusOf } from "../../coordinator/cluster/errors.ts";
import { metricsSource } from "../../coordinator/cluster/metrics-source.ts";
import { renderReport } from "../../coordinator/report/render.ts";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import {
  announceReportAgents,
  expectReportCluster,
  REPORT_NODES,
  reportPod,
  reportWithCluster,
} from "../support/cluster-report.ts";
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
    for (const node of REPORT_NODES) await addNode(core, node);
    await addPod(core, reportPod());
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
    await announceReportAgents(service.broker?.url ?? "", topics);

    const report = await reportWithCluster(service, false, 15_000);
    expectReportCluster(report, false);
    // No metrics-server: no usage figures are made up.
    const n1 = report.cluster?.nodes.find((n) => n.name === "k3s-node-1");
    expect(n1?.cpuUsedMillis).toBeUndefined();
    expect(n1?.memoryUsedBytes).toBeUndefined();
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
