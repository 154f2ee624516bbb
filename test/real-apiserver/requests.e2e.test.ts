import { join } from "node:path";
import pino from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { openDecisionStore, REQUEST_ID_ANNOTATION } from "../../coordinator/placement/index.ts";
import { createMessage, DecisionStatus, topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import {
  connectRequester,
  expectRejected,
  publishTwice,
  REFUSED_REQUESTS,
  scheduleRequest,
} from "../support/placement.ts";
import { useRealCluster } from "../support/real-cluster.ts";
import { addNode, addPod, eventsFor, eventually, isCall, nodeOf } from "./cluster.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const root = topics.root;
const available = realApiServerAvailable();

const real = useRealCluster({ topicRoot: root, logger, dirPrefix: "k3s-fleet-real-req-", skip: !available });
const { unique } = real;
const start = () => real.start();
/** This test's requests by the coordinator (the audit log spans the file). */
const mine = () => real.requests();
const podCreates = () => mine().filter(isCall("create", "pods"));
const bindingPosts = () => mine().filter(isCall("create", "bindings"));

describe.skipIf(!available)("schedule requests against a real kube-apiserver", () => {
  beforeEach(async () => {
    await addNode(real.cluster.core, { name: unique("node-a"), cpu: "4", memory: "8Gi" });
    await addNode(real.cluster.core, { name: unique("node-b"), cpu: "2", memory: "4Gi" });
  });

  it("creates exactly one bound pod when the same request is published twice", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const request = scheduleRequest(root, client.clientId, {
      podName: unique("mqtt-app"),
      labels: { app: "mqtt-app" },
      cpuRequest: "500m",
      memoryRequest: "512Mi",
    });
    await publishTwice(client, request);
    const first = await client.waitFor(request.requestId, 1, 30_000);
    const second = await client.waitFor(request.requestId, 2, 30_000);
    expect(first.status).toBe(DecisionStatus.SCHEDULED);
    expect(first.node).toBe(unique("node-a"));
    expect(second).toEqual(first);

    expect(podCreates()).toHaveLength(1);
    expect(bindingPosts().map((r) => r.responseStatus?.code)).toEqual([201]);
    const pod = await real.cluster.core.readNamespacedPod({ namespace: "default", name: unique("mqtt-app") });
    expect(pod.spec).toMatchObject({
      nodeName: unique("node-a"),
      schedulerName: "k3s-fleet",
      automountServiceAccountToken: false,
    });
    expect(pod.metadata?.uid).toBe(first.podUid);
    expect(pod.metadata?.labels).toMatchObject({
      app: "mqtt-app",
      "app.kubernetes.io/managed-by": "k3s-fleet",
    });
    expect(pod.metadata?.annotations?.[REQUEST_ID_ANNOTATION]).toBe(request.requestId);
    await eventually(
      async () => (await eventsFor(real.cluster.core, unique("mqtt-app"), "Scheduled")).length === 1,
    );
    expect(service.scheduling?.summary()).toMatchObject({ decisions: 1n, scheduled: 1n });
    await client.close();
  }, 60_000);

  it("answers a repeat after a coordinator restart from the store, creating nothing", async () => {
    const first = await start();
    let client = await connectRequester(first.broker?.url ?? "", root);
    const request = scheduleRequest(root, client.clientId, { podName: unique("survives-restart") });
    const before = await client.request(request, 30_000);
    expect(before.status).toBe(DecisionStatus.SCHEDULED);
    await client.close();
    await real.stop(first);

    const second = await start();
    client = await connectRequester(second.broker?.url ?? "", root, client.clientId);
    const after = await client.request(request, 30_000);
    expect(after).toEqual(before);
    expect(podCreates()).toHaveLength(1);
    expect(bindingPosts()).toHaveLength(1);
    await client.close();
  }, 60_000);

  it("finishes the pod an earlier attempt created before it could answer (crash between create and reply)", async () => {
    const requestId = unique("req-crashed");
    const store = openDecisionStore({ path: join(real.dir, "scheduling.sqlite"), keepRecords: 100 });
    const planned = createMessage("scheduleDecision", {
      requestId,
      status: DecisionStatus.SCHEDULED,
      node: unique("node-a"),
    });
    store.begin(requestId, "default", unique("half-done"), planned, Date.now());
    store.close();
    const created = await addPod(
      real.cluster.core,
      makePod({
        name: unique("half-done"),
        schedulerName: "other-scheduler",
        annotations: { [REQUEST_ID_ANNOTATION]: requestId },
        requests: { cpu: "100m", memory: "128Mi" },
      }),
    );
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { requestId, podName: unique("half-done") }),
      30_000,
    );
    expect(decision.status).toBe(DecisionStatus.SCHEDULED);
    expect(decision.podUid).toBe(created.metadata?.uid);
    expect(await nodeOf(real.cluster.core, unique("half-done"))).toBe(decision.node);
    expect(podCreates()).toHaveLength(0);
    await client.close();
  }, 60_000);

  it("refuses a request for a pod name that exists but belongs to someone else", async () => {
    await addPod(real.cluster.core, makePod({ name: unique("taken"), nodeName: unique("node-b") }));
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { podName: unique("taken") }),
      30_000,
    );
    expect(decision.status).toBe(DecisionStatus.REJECTED);
    expect(decision.message).toContain(`pod default/${unique("taken")} already exists`);
    expect(await nodeOf(real.cluster.core, unique("taken"))).toBe(unique("node-b"));
    await client.close();
  }, 60_000);

  it("dry-run decides and creates nothing", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { podName: unique("dry"), dryRun: true, cpuRequest: "3" }),
      30_000,
    );
    expect(decision).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      node: unique("node-a"),
      podUid: "",
      advisory: false,
    });
    expect(decision.rejections.map((r) => `${r.node} ${r.filter}: ${r.reason}`)).toEqual([
      `${unique("node-b")} NodeResourcesFit: Insufficient cpu`,
    ]);
    expect(podCreates()).toHaveLength(0);
    expect(await nodeOf(real.cluster.core, unique("dry"))).toBeUndefined();
    await client.close();
  }, 60_000);

  it("answers unschedulable with kube-scheduler's explanation and creates nothing", async () => {
    await addPod(
      real.cluster.core,
      makePod({
        name: unique("small"),
        nodeName: unique("node-a"),
        requests: { cpu: "100m", memory: "128Mi" },
      }),
    );
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, {
        podName: unique("too-big"),
        cpuRequest: "4",
        memoryRequest: "8Gi",
      }),
      30_000,
    );
    expect(decision.status).toBe(DecisionStatus.UNSCHEDULABLE);
    expect(decision.message).toBe("0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.");
    expect(podCreates()).toHaveLength(0);
    await client.close();
  }, 60_000);

  it("refuses namespaces, registries, sizes and invalid fields, saying why, and the API server sees no create", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    await expectRejected(client, root, REFUSED_REQUESTS, 30_000);
    expect(podCreates()).toHaveLength(0);
    expect(mine().filter((r) => r.verb === "create")).toHaveLength(0);
    await client.close();
  }, 60_000);
});
