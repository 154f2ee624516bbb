import { ApiException, Metrics, type NodeMetricsList, type PodMetricsList } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeApiServer,
  makeNode,
  makePod,
  startFakeApiServer,
} from "../../test/fake-apiserver/index.ts";
import { captureLogger, manualTimers } from "../../test/support/cluster.ts";
import { createMetricsPoller, type MetricsSource, nodeUsage, podUsage } from "./metrics.ts";

const MI = 1024n ** 2n;

const nodeList = (items: Array<[string, string, string]>): NodeMetricsList =>
  ({
    kind: "NodeMetricsList",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: { selfLink: "" },
    items: items.map(([name, cpu, memory]) => ({
      metadata: { name, selfLink: "", creationTimestamp: "" },
      timestamp: "",
      window: "10s",
      usage: { cpu, memory },
    })),
  }) as NodeMetricsList;

const podList = (items: Array<[string, string, Array<[string, string]>]>): PodMetricsList =>
  ({
    kind: "PodMetricsList",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: { selfLink: "" },
    items: items.map(([namespace, name, containers]) => ({
      metadata: { name, namespace, selfLink: "", creationTimestamp: "" },
      timestamp: "",
      window: "10s",
      containers: containers.map(([cpu, memory], i) => ({ name: `c${i}`, usage: { cpu, memory } })),
    })),
  }) as PodMetricsList;

describe("usage parsing", () => {
  it("converts node usage to millicores and bytes, skipping malformed items", () => {
    const usage = nodeUsage(
      nodeList([
        ["n1", "1500m", "2Gi"],
        ["n2", "250000000n", "524288Ki"],
        ["bad", "x", "1Gi"],
      ]),
    );
    expect([...usage]).toEqual([
      ["n1", { cpuMillis: 1500n, memoryBytes: 2048n * MI }],
      ["n2", { cpuMillis: 250n, memoryBytes: 512n * MI }],
    ]);
  });

  it("sums pod usage over containers, keyed namespace/name", () => {
    const usage = podUsage(
      podList([
        [
          "default",
          "web",
          [
            ["120m", "64Mi"],
            ["30m", "16Mi"],
          ],
        ],
        ["kube-system", "dns", [["1m", "10Mi"]]],
        ["default", "broken", [["1m", "??"]]],
      ]),
    );
    expect(usage.get("default/web")).toEqual({ cpuMillis: 150n, memoryBytes: 80n * MI });
    expect(usage.get("kube-system/dns")).toEqual({ cpuMillis: 1n, memoryBytes: 10n * MI });
    expect(usage.has("default/broken")).toBe(false);
  });
});

describe("createMetricsPoller with a scripted source", () => {
  function scripted() {
    const answers: Array<NodeMetricsList | Error> = [];
    const source: MetricsSource = {
      getNodeMetrics: async () => {
        const next = answers.shift() ?? new Error("script ran out");
        if (next instanceof Error) throw next;
        return next;
      },
      getPodMetrics: async () => podList([]),
    };
    return { answers, source };
  }
  const absent = () => new ApiException(404, "Error occurred in metrics request", undefined, {});
  const broken = () => new ApiException(503, "service unavailable", undefined, {});

  it("logs absence once, polls on, and recovers when metrics-server appears", async () => {
    const { answers, source } = scripted();
    const clock = manualTimers();
    const { logger, lines } = captureLogger("info");
    let now = 1000;
    const poller = createMetricsPoller({
      source,
      logger,
      intervalMs: 15_000,
      timers: clock.timers,
      now: () => now,
    });
    answers.push(absent(), absent(), absent(), nodeList([["n1", "100m", "1Gi"]]), absent());

    expect((await poller.start()).available).toBe(false);
    for (let i = 0; i < 2; i++) {
      expect(clock.pending()).toEqual([15_000]);
      clock.fireNext();
      await poller.refresh(); // joins the scrape the timer started
    }
    expect(poller.snapshot()).toMatchObject({ available: false, fetchedAt: undefined });
    expect(lines.map((l) => l.msg)).toEqual([
      "metrics.k8s.io not available (metrics-server not installed?): reports carry no used CPU/memory",
    ]);

    now = 2000;
    clock.fireNext();
    const back = await poller.refresh();
    expect(back).toMatchObject({ available: true, fetchedAt: 2000 });
    expect(back.nodes.get("n1")).toEqual({ cpuMillis: 100n, memoryBytes: 1024n * MI });
    expect(lines.at(-1)?.msg).toBe("metrics.k8s.io available: usage is back in reports");

    clock.fireNext();
    expect((await poller.refresh()).available).toBe(false); // uninstalled again: values dropped at once
    expect(poller.snapshot().nodes.size).toBe(0);
    expect(lines).toHaveLength(3);
    await poller.stop();
    expect(clock.pending()).toEqual([]);
  });

  it("keeps the last values through failed scrapes until they are stale, warning once", async () => {
    const { answers, source } = scripted();
    const clock = manualTimers();
    const { logger, lines } = captureLogger("info");
    let now = 0;
    const poller = createMetricsPoller({
      source,
      logger,
      intervalMs: 10,
      timers: clock.timers,
      now: () => now,
    });
    answers.push(nodeList([["n1", "1", "1Gi"]]), broken(), broken(), broken());
    await poller.refresh();
    now = 20;
    expect(await poller.refresh()).toMatchObject({ available: true, fetchedAt: 0 }); // within 3 intervals
    now = 30;
    expect((await poller.refresh()).available).toBe(true);
    now = 31;
    const stale = await poller.refresh();
    expect(stale).toMatchObject({ available: false, fetchedAt: 0 });
    expect(stale.nodes.size).toBe(0);
    const warnings = lines.filter((l) => l.msg.startsWith("metrics.k8s.io scrape failed"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.err).toMatchObject({ code: "K3SF_ERR_KUBE_METRICS" });
    expect(clock.pending()).toEqual([]); // refresh() without start() schedules nothing
  });
});

describe("createMetricsPoller against the fake API server (client-node Metrics)", () => {
  let api: FakeApiServer;

  beforeAll(async () => {
    api = await startFakeApiServer({ metricsAvailable: false });
    api.addNode(makeNode({ name: "n1" }));
    api.addPod(makePod({ name: "web", nodeName: "n1" }));
  });
  afterAll(() => api.close());

  it("is unavailable while metrics.k8s.io is absent, then reports node and pod usage", async () => {
    const { logger } = captureLogger();
    const poller = createMetricsPoller({ source: new Metrics(api.kubeConfig()), logger, intervalMs: 60_000 });
    expect((await poller.refresh()).available).toBe(false);
    api.setMetricsAvailable(true);
    api.setNodeMetrics("n1", { cpu: "650m", memory: "3Gi" });
    api.setPodMetrics("default", "web", { cpu: "5m", memory: "20Mi" });
    const snapshot = await poller.refresh();
    expect(snapshot.available).toBe(true);
    expect(snapshot.nodes.get("n1")).toEqual({ cpuMillis: 650n, memoryBytes: 3072n * MI });
    expect(snapshot.pods.get("default/web")).toEqual({ cpuMillis: 5n, memoryBytes: 20n * MI });
    await poller.stop();
  });
});
