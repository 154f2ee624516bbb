// metrics.k8s.io through client-node's Metrics class and CustomObjectsApi, and metrics-server's absence.
import { ApisApi, CoreV1Api, CustomObjectsApi, Metrics, topNodes } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./index.ts";

let api: FakeApiServer;
let metrics: Metrics;

beforeAll(async () => {
  api = await startFakeApiServer();
  metrics = new Metrics(api.kubeConfig());
  api.addNode(makeNode({ name: "n1", labels: { pool: "a" } }));
  api.addNode(makeNode({ name: "n2" }));
  api.addNode(makeNode({ name: "unscraped" }));
  api.addPod(makePod({ name: "web", containerName: "app", nodeName: "n1" }));
  api.setNodeMetrics("n1", { cpu: "1500m", memory: "2Gi" });
  api.setNodeMetrics("n2", { cpu: "250000000n", memory: "524288Ki" });
  api.setPodMetrics("default", "web", { cpu: "120m", memory: "64Mi" });
});
afterAll(() => api.close());

describe("metrics.k8s.io", () => {
  it("serves NodeMetrics for scraped nodes through client-node's Metrics", async () => {
    const list = await metrics.getNodeMetrics();
    expect(list).toMatchObject({ kind: "NodeMetricsList", apiVersion: "metrics.k8s.io/v1beta1" });
    expect(list.items.map((m) => [m.metadata.name, m.usage.cpu, m.usage.memory])).toEqual([
      ["n1", "1500m", "2Gi"],
      ["n2", "250000000n", "524288Ki"],
    ]);
    expect(list.items[0]?.metadata.labels).toMatchObject({ pool: "a" });
    expect(list.items[0]?.window).toBe("10s");
  });

  it("serves PodMetrics per container, across and within namespaces", async () => {
    const all = await metrics.getPodMetrics();
    const inDefault = await metrics.getPodMetrics("default");
    // metrics-server stamps creationTimestamp with the time of the request, so two lists may differ there.
    const withoutCreation = (items: typeof all.items) =>
      items.map(({ metadata, ...rest }) => ({
        ...rest,
        metadata: { ...metadata, creationTimestamp: undefined },
      }));
    expect(withoutCreation(inDefault.items)).toEqual(withoutCreation(all.items));
    expect(all.items[0]).toMatchObject({
      metadata: { name: "web", namespace: "default" },
      containers: [{ name: "app", usage: { cpu: "120m", memory: "64Mi" } }],
    });
  });

  it("serves single objects and label-selected lists through CustomObjectsApi", async () => {
    const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
    const one = await custom.getClusterCustomObject({
      group: "metrics.k8s.io",
      version: "v1beta1",
      plural: "nodes",
      name: "n2",
    });
    expect(one).toMatchObject({ kind: "NodeMetrics", usage: { cpu: "250000000n" } });
    const selected = await custom.listClusterCustomObject({
      group: "metrics.k8s.io",
      version: "v1beta1",
      plural: "nodes",
      labelSelector: "pool=a",
    });
    expect(selected.items.map((m: { metadata: { name: string } }) => m.metadata.name)).toEqual(["n1"]);
    const failure = await failureOf(
      custom.getClusterCustomObject({
        group: "metrics.k8s.io",
        version: "v1beta1",
        plural: "nodes",
        name: "unscraped",
      }),
    );
    expect(failure).toMatchObject({
      code: 404,
      status: { message: 'nodemetrics.metrics.k8s.io "unscraped" not found' },
    });
  });

  it("feeds client-node's topNodes", async () => {
    const top = await topNodes(api.kubeConfig().makeApiClient(CoreV1Api));
    expect(top.map((t) => t.Node.metadata?.name)).toEqual(["n1", "n2", "unscraped"]);
  });

  it("disappears like an absent metrics-server: 404 and no group in discovery", async () => {
    api.setMetricsAvailable(false);
    try {
      const failure = await failureOf(metrics.getNodeMetrics());
      expect(failure.code).toBe(404);
      const groups = await api.kubeConfig().makeApiClient(ApisApi).getAPIVersions();
      expect(groups.groups.map((g) => g.name)).toEqual(["events.k8s.io", "storage.k8s.io"]);
    } finally {
      api.setMetricsAvailable(true);
    }
  });
});
