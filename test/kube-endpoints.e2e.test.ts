// Every Kubernetes API call the product makes is one the fake API server serves (issue 16): the coordinator
// runs against test/fake-apiserver with everything that talks to Kubernetes switched on — connect (version),
// the node and pod informers (list + watch), the metrics poller, a pending pod bound with its Event, and an
// MQTT schedule request that creates, binds (once answered 409, so the pod is re-read) and records an
// Event. The test fails when any request reaches an endpoint the fake lacks (`routed: false`), and when
// the product calls an endpoint not listed in PRODUCT_ENDPOINTS below, so the list, the fake and the
// fake's README stay what the product uses. (Add the endpoint to the fake and to the list together.)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorService } from "../coordinator/service.ts";
import { DecisionStatus, topicsFor } from "../proto/index.ts";
import {
  type FakeApiServer,
  makeNode,
  makePod,
  type RequestRecord,
  startFakeApiServer,
} from "./fake-apiserver/index.ts";
import { startClusterService } from "./support/cluster-service.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { until } from "./support/until.ts";

/** What the product calls, as method + path template (`{ns}`, `{name}`); "watch" marks watch streams. */
const PRODUCT_ENDPOINTS = [
  "GET /version", // cluster/connect.ts probeVersion (VersionApi.getCode)
  "GET /api/v1/nodes", // cluster/informers.ts (listNode)
  "GET /api/v1/nodes watch",
  "GET /api/v1/pods", // cluster/informers.ts (listPodForAllNamespaces)
  "GET /api/v1/pods watch",
  "GET /apis/metrics.k8s.io/v1beta1/nodes", // cluster/metrics.ts via client-node Metrics
  "GET /apis/metrics.k8s.io/v1beta1/pods",
  "POST /api/v1/namespaces/{ns}/pods", // placement/kube.ts createPod
  "GET /api/v1/namespaces/{ns}/pods/{name}", // placement/kube.ts readPod
  "POST /api/v1/namespaces/{ns}/bindings", // placement/kube.ts bind (createNamespacedBinding)
  "POST /apis/events.k8s.io/v1/namespaces/{ns}/events", // placement/kube.ts recordEvent
  "PATCH /api/v1/namespaces/{ns}/pods/{name}/status", // placement/kube.ts markUnschedulable, nominate, evict (DisruptionTarget)
  "GET /api/v1/persistentvolumeclaims", // cluster/storage.ts (listPersistentVolumeClaimForAllNamespaces)
  "GET /api/v1/persistentvolumeclaims watch",
  "GET /api/v1/persistentvolumes", // cluster/storage.ts (listPersistentVolume)
  "GET /api/v1/persistentvolumes watch",
  "GET /apis/storage.k8s.io/v1/storageclasses", // cluster/storage.ts (listStorageClass)
  "GET /apis/storage.k8s.io/v1/storageclasses watch",
  "PATCH /api/v1/namespaces/{ns}/persistentvolumeclaims/{name}", // placement/kube-volumes.ts selectNode
  "PATCH /api/v1/persistentvolumes/{name}", // placement/kube-volumes.ts bindVolume
  "GET /apis/policy/v1/poddisruptionbudgets", // placement/kube.ts listPdbs (preemption)
  "DELETE /api/v1/namespaces/{ns}/pods/{name}", // placement/kube.ts evict (preemption)
  "GET /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}", // leader/lease-client.ts get
  "POST /apis/coordination.k8s.io/v1/namespaces/{ns}/leases", // leader/lease-client.ts create
  "PUT /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}", // leader/lease-client.ts update (renew)
];

/** "GET /api/v1/namespaces/{ns}/pods/{name}" for GET /api/v1/namespaces/default/pods/web. */
function endpointOf(r: Pick<RequestRecord, "method" | "path" | "watch">): string {
  const parts = r.path.split("/");
  const start = parts[1] === "api" ? 3 : parts[1] === "apis" ? 4 : parts.length;
  const rest = parts.slice(start);
  if (rest[0] === "namespaces" && rest.length > 2) {
    rest[1] = "{ns}";
    if (rest.length > 3) rest[3] = "{name}";
  } else if (rest.length > 1) rest[1] = "{name}";
  return `${r.method} ${[...parts.slice(0, start), ...rest].join("/")}${r.watch ? " watch" : ""}`;
}

const logger = pino({ level: "silent" });
const topics = topicsFor();
let api: FakeApiServer;
let service: CoordinatorService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3sf-kube-endpoints-"));
  api = await startFakeApiServer();
  api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
  api.addNode(makeNode({ name: "node-b", cpu: "4", memory: "8Gi" }));
  api.setNodeMetrics("node-a", { cpu: "500m", memory: "1Gi" });
  service = await startClusterService({
    kubeconfigPath: api.kubeconfigPath,
    topicRoot: topics.root,
    logger,
    storeDir: dir,
    metricsIntervalMs: 100,
    extra: {
      // Leader election too, with short timings so the run sees the Lease created and renewed.
      leaderElection: {
        namespace: "default",
        leaseName: "k3s-fleet-coordinator",
        identity: "endpoints-test",
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 200,
      },
    },
  });
});

afterAll(async () => {
  await service?.stop();
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the Kubernetes endpoints the product calls", () => {
  it("are all served by the fake API server, and are the ones listed", async () => {
    // A pending pod with our schedulerName: bound, with a Scheduled Event.
    api.addPod(makePod({ name: "pending", schedulerName: "k3s-fleet", requests: { cpu: "100m" } }));
    await until(
      () => (api.getPod("default", "pending")?.spec as { nodeName?: string })?.nodeName,
      5000,
      "bound",
    );
    // A pod that fits nowhere: FailedScheduling, and its PodScheduled condition set to False.
    api.addPod(makePod({ name: "too-big", schedulerName: "k3s-fleet", requests: { cpu: "64" } }));
    await until(
      () =>
        (
          api.getPod("default", "too-big")?.status as { conditions?: { type: string; status: string }[] }
        )?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False"),
      5000,
      "PodScheduled=False on the pod that fits nowhere",
    );
    // Pods with WaitForFirstConsumer claims: one provisioned (selected-node), one on a pre-provisioned volume (claimRef).
    api.addStorageClass({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "local-path" },
      provisioner: "rancher.io/local-path",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    api.addVolume({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "disk" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        hostPath: { path: "/d" },
      },
    });
    api.updateVolume("disk", (pv) => {
      pv.status = { phase: "Available" };
    });
    for (const [pod, claim, size] of [
      ["with-volume", "on-disk", "1Gi"],
      ["with-claim", "provisioned", "2Gi"],
    ] as const) {
      api.addClaim({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: claim },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: size } },
          storageClassName: "local-path",
        },
      });
      const p = makePod({ name: pod, schedulerName: "k3s-fleet", requests: { cpu: "100m" } });
      api.addPod({
        ...p,
        spec: { ...p.spec, volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }] },
      });
      await until(
        () => (api.getPod("default", pod)?.spec as { nodeName?: string })?.nodeName,
        5000,
        `${pod} bound`,
      );
    }
    // A high-priority pod that fits only if the low-priority one filling node-b goes: preemption.
    const low = makePod({ name: "low", nodeName: "node-b", requests: { cpu: "3900m" } });
    api.addPod({ ...low, spec: { ...low.spec, priority: -1 } });
    api.updateNode("node-a", (n) => {
      (n.spec as { unschedulable?: boolean }).unschedulable = true;
    });
    const vip = makePod({ name: "vip", schedulerName: "k3s-fleet", requests: { cpu: "1" } });
    api.addPod({ ...vip, spec: { ...vip.spec, priority: 1000 } });
    await until(
      () => (api.getPod("default", "vip")?.spec as { nodeName?: string })?.nodeName,
      5000,
      "the preemptor bound",
    );
    api.updateNode("node-a", (n) => {
      (n.spec as { unschedulable?: boolean }).unschedulable = false;
    });
    // An MQTT request whose binding is answered 409 once: created, re-read, then decided.
    const client = await connectRequester(service.broker?.url ?? "", topics.root);
    try {
      api.faults.failNext({ method: "POST", pathPattern: "/bindings", status: 409, reason: "Conflict" });
      const first = await client.request(
        scheduleRequest(topics.root, client.clientId, { podName: "asked-1" }),
      );
      expect(first.status).not.toBe(DecisionStatus.REJECTED);
      const second = await client.request(
        scheduleRequest(topics.root, client.clientId, { podName: "asked-2" }),
      );
      expect(second.status).toBe(DecisionStatus.SCHEDULED);
    } finally {
      await client.close();
    }
    await until(
      () => api.requests().some((r) => r.path.startsWith("/apis/metrics.k8s.io/v1beta1/pods")),
      5000,
      "a metrics poll",
    );

    await until(
      () => api.requests().some((r) => r.method === "PUT" && r.path.includes("/leases/")),
      5000,
      "a Lease renewal",
    );
    const requests = api.requests();
    expect(requests.filter((r) => !r.routed).map(endpointOf)).toEqual([]);
    const called = [...new Set(requests.map(endpointOf))].sort();
    expect(called.filter((e) => !PRODUCT_ENDPOINTS.includes(e))).toEqual([]);
    // The run reached every listed endpoint, so a trimmed fake that still passes serves all of them.
    expect(called).toEqual([...PRODUCT_ENDPOINTS].sort());
  });

  it("a request to an endpoint the fake lacks is recorded as unrouted", async () => {
    const kc = api.kubeConfig();
    const { CoreV1Api } = await import("@kubernetes/client-node");
    await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedConfigMap({ namespace: "default" })
      .catch(() => undefined);
    const last = api.requests().at(-1);
    expect(last).toMatchObject({ path: "/api/v1/namespaces/default/configmaps", routed: false });
  });
});
