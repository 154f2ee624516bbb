// The scheduling scenarios against a real K3s in a container (testcontainers), wherever Docker can pull
// `rancher/k3s`. Elsewhere every test skips and says why. The same scenarios run against the fake API
// server in scheduling-cluster.e2e.test.ts and scheduling-requests.e2e.test.ts on every machine.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { DecisionStatus, topicsFor } from "../proto/index.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const IMAGE = process.env.K3SF_K3S_IMAGE ?? "rancher/k3s:v1.33.5-k3s1";
const logger = pino({ level: "silent" });
const topics = topicsFor();

type Started = { stop(): Promise<unknown>; kubeconfigPath: string; core: CoreV1Api };
let k3s: Started | undefined;
let skipReason: string | undefined;
let service: CoordinatorService | undefined;

/** Starts K3s, or explains why it cannot here (no container runtime, image not pullable, ...). */
async function startK3s(): Promise<Started> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import("testcontainers");
  await getContainerRuntimeClient();
  const container = await new GenericContainer(IMAGE)
    .withPrivilegedMode()
    .withCommand(["server", "--disable=traefik", "--tls-san=127.0.0.1"])
    .withExposedPorts(6443)
    .withWaitStrategy(Wait.forLogMessage(/Node controller sync successful|k3s is up and running/))
    .withStartupTimeout(180_000)
    .start();
  const yaml = (await container.exec(["cat", "/etc/rancher/k3s/k3s.yaml"])).output;
  const port = container.getMappedPort(6443);
  const kubeconfigPath = join(mkdtempSync(join(tmpdir(), "k3sf-k3s-")), "k3s.yaml");
  writeFileSync(kubeconfigPath, yaml.replace(/https:\/\/127\.0\.0\.1:6443/, `https://127.0.0.1:${port}`));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  // Ready once the node registered and the default service account exists (pods need it).
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const nodes = await core.listNode();
      await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
      if (nodes.items.length > 0) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("K3s did not become ready in 120 s");
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { stop: () => container.stop(), kubeconfigPath, core };
}

beforeAll(async () => {
  try {
    k3s = await startK3s();
  } catch (error) {
    skipReason = `no K3s container (${IMAGE}): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    console.warn(`skipping the K3s tests: ${skipReason}`);
    return;
  }
  service = await startCoordinatorService(
    testServiceOptions({
      topicRoot: topics.root,
      defaultIntervalMs: 5000,
      kubernetes: {
        kubeconfigPath: k3s.kubeconfigPath,
        env: {},
        connectTimeoutMs: 10_000,
        metricsIntervalMs: 5000,
      },
      scheduling: {
        storePath: join(mkdtempSync(join(tmpdir(), "k3sf-k3s-store-")), "scheduling.sqlite"),
        allowedRegistries: ["*"],
      },
      logger,
    }),
  );
  await until(() => service?.cluster?.synced(), 30_000, "informers synced");
}, 300_000);

afterAll(async () => {
  await service?.stop();
  await k3s?.stop();
}, 120_000);

describe("scheduling against a real K3s (testcontainers)", () => {
  it("binds a pending pod with our schedulerName and records a Scheduled Event", async (ctx) => {
    if (!k3s) return ctx.skip(skipReason);
    const { core } = k3s;
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "fleet-pending" },
        spec: {
          schedulerName: "k3s-fleet",
          containers: [
            { name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "10m" } } },
          ],
        },
      },
    });
    const deadline = Date.now() + 60_000;
    let nodeName: string | undefined;
    while (!nodeName && Date.now() < deadline) {
      nodeName = (await core.readNamespacedPod({ name: "fleet-pending", namespace: "default" })).spec
        ?.nodeName;
      if (!nodeName) await new Promise((r) => setTimeout(r, 500));
    }
    expect(nodeName).toBeTruthy();
    const events = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: "involvedObject.name=fleet-pending",
    });
    expect(events.items.map((e) => e.reason)).toContain("Scheduled");
  }, 120_000);

  it("gives an unschedulable pod FailedScheduling with kube-scheduler's message", async (ctx) => {
    if (!k3s) return ctx.skip(skipReason);
    const { core } = k3s;
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "fleet-too-big" },
        spec: {
          schedulerName: "k3s-fleet",
          containers: [
            { name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "1000" } } },
          ],
        },
      },
    });
    const deadline = Date.now() + 60_000;
    let message = "";
    while (!message && Date.now() < deadline) {
      const events = await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: "involvedObject.name=fleet-too-big",
      });
      message = events.items.find((e) => e.reason === "FailedScheduling")?.message ?? "";
      if (!message) await new Promise((r) => setTimeout(r, 500));
    }
    expect(message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu\./);
  }, 120_000);

  it("creates exactly one bound pod for an MQTT request published twice", async (ctx) => {
    if (!k3s || !service?.broker) return ctx.skip(skipReason);
    const requester = await connectRequester(service.broker.url, topics.root);
    try {
      const request = scheduleRequest(topics.root, requester.clientId, {
        podName: "fleet-mqtt",
        image: "registry.k8s.io/pause:3.10",
        cpuRequest: "10m",
        memoryRequest: "16Mi",
      });
      const first = await requester.request(request, 60_000);
      const second = await requester.request(request, 60_000);
      expect(first.status).toBe(DecisionStatus.SCHEDULED);
      expect(second).toMatchObject({ status: first.status, node: first.node, podUid: first.podUid });
      const pods = await k3s.core.listNamespacedPod({
        namespace: "default",
        labelSelector: "app.kubernetes.io/managed-by=k3s-fleet",
      });
      expect(pods.items.filter((p) => p.metadata?.name === "fleet-mqtt")).toHaveLength(1);
      expect(pods.items.find((p) => p.metadata?.name === "fleet-mqtt")?.spec?.nodeName).toBe(first.node);
    } finally {
      await requester.close();
    }
  }, 120_000);
});
