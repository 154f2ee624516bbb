// Schedule requests over real MQTT (embedded broker) against a Kubernetes API (the fake server, real
// client-node): a request creates exactly one bound pod even when published twice or when the coordinator
// restarts in between; refused requests get a `rejected` decision with the reason (or, with a reply topic
// outside {root}/schedule/reply/, nothing at all); dry-run creates nothing; a 409 during bind is handled.
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import mqtt from "mqtt";
import pino from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { openDecisionStore, REQUEST_ID_ANNOTATION } from "../coordinator/placement/index.ts";
import { createMessage, DecisionStatus, encode, topicsFor } from "../proto/index.ts";
import { makeNode, makePod } from "./fake-apiserver/index.ts";
import { useFakeCluster } from "./support/fake-cluster.ts";
import {
  connectRequester,
  expectRejected,
  publishTwice,
  REFUSED_REQUESTS,
  scheduleRequest,
} from "./support/placement.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const root = topics.root;

const fake = useFakeCluster({ topicRoot: root, logger, dirPrefix: "k3s-fleet-req-" });
const start = () => fake.start();
const { podCreates, bindingPosts } = fake;
const nodeOf = (name: string, namespace = "default") => fake.nodeOf(name, namespace);

beforeEach(() => {
  fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
  fake.api.addNode(makeNode({ name: "node-b", cpu: "2", memory: "4Gi" }));
});

describe("schedule requests in a cluster", () => {
  it("creates exactly one bound pod when the same request is published twice", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const request = scheduleRequest(root, client.clientId, {
      podName: "mqtt-app",
      labels: { app: "mqtt-app" },
      cpuRequest: "500m",
      memoryRequest: "512Mi",
    });
    await publishTwice(client, request);
    const first = await client.waitFor(request.requestId, 1);
    const second = await client.waitFor(request.requestId, 2);
    expect(first.status).toBe(DecisionStatus.SCHEDULED);
    expect(first.node).toBe("node-a"); // the larger node is the least allocated
    expect(first.podUid).not.toBe("");
    expect(second).toEqual(first);
    expect(first.scores.length).toBeGreaterThan(0);
    expect(first.rejections).toEqual([]);

    expect(podCreates()).toHaveLength(1);
    expect(bindingPosts()).toHaveLength(1);
    const pod = fake.api.getPod("default", "mqtt-app") as {
      metadata: { uid: string; labels: Record<string, string>; annotations: Record<string, string> };
      spec: { nodeName: string; schedulerName: string; automountServiceAccountToken: boolean };
    };
    expect(pod.spec).toMatchObject({
      nodeName: "node-a",
      schedulerName: "k3s-fleet",
      automountServiceAccountToken: false,
    });
    expect(pod.metadata.uid).toBe(first.podUid);
    expect(pod.metadata.labels).toMatchObject({
      app: "mqtt-app",
      "app.kubernetes.io/managed-by": "k3s-fleet",
    });
    expect(pod.metadata.annotations[REQUEST_ID_ANNOTATION]).toBe(request.requestId);
    await until(
      () => fake.api.events("default").some((e) => (e as { reason?: string }).reason === "Scheduled"),
      5000,
      "Scheduled event",
    );
    expect(service.scheduling?.summary()).toMatchObject({ decisions: 1n, scheduled: 1n });
    await client.close();
  });

  it("answers a repeat after a coordinator restart from the store, creating nothing", async () => {
    const first = await start();
    let client = await connectRequester(first.broker?.url ?? "", root);
    const request = scheduleRequest(root, client.clientId, { podName: "survives-restart" });
    const before = await client.request(request);
    expect(before.status).toBe(DecisionStatus.SCHEDULED);
    await client.close();
    await fake.stop(first);

    const second = await start();
    client = await connectRequester(second.broker?.url ?? "", root, client.clientId);
    const after = await client.request(request);
    expect(after).toEqual(before);
    expect(podCreates()).toHaveLength(1);
    expect(bindingPosts()).toHaveLength(1);
    await client.close();
  });

  it("finishes the pod an earlier attempt created before it could answer (crash between create and reply)", async () => {
    const requestId = "req-crashed";
    // What a coordinator that died right after creating the pod leaves behind: the intent in the store,
    // and the pod with its request id.
    const store = openDecisionStore({ path: join(fake.dir, "scheduling.sqlite"), keepRecords: 100 });
    const planned = createMessage("scheduleDecision", {
      requestId,
      status: DecisionStatus.SCHEDULED,
      node: "node-a",
    });
    store.begin(requestId, "default", "half-done", planned, Date.now());
    store.close();
    fake.api.addPod(
      makePod({
        name: "half-done",
        schedulerName: "other-scheduler", // not ours: only the request path may finish it
        annotations: { [REQUEST_ID_ANNOTATION]: requestId },
        requests: { cpu: "100m", memory: "128Mi" },
      }),
    );
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { requestId, podName: "half-done" }),
    );
    expect(decision.status).toBe(DecisionStatus.SCHEDULED);
    expect(decision.podUid).toBe(fake.api.getPod("default", "half-done")?.metadata.uid);
    expect(nodeOf("half-done")).toBe(decision.node);
    expect(podCreates()).toHaveLength(0); // found, not created again
    await client.close();
  });

  it("refuses a request for a pod name that exists but belongs to someone else", async () => {
    fake.api.addPod(makePod({ name: "taken", nodeName: "node-b" }));
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(scheduleRequest(root, client.clientId, { podName: "taken" }));
    expect(decision.status).toBe(DecisionStatus.REJECTED);
    expect(decision.message).toContain("pod default/taken already exists");
    expect(nodeOf("taken")).toBe("node-b");
    await client.close();
  });

  it("dry-run decides and creates nothing", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { podName: "dry", dryRun: true, cpuRequest: "3" }),
    );
    expect(decision).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      node: "node-a",
      podUid: "",
      advisory: false,
    });
    expect(decision.rejections).toEqual([
      {
        $typeName: "k3sfleet.v1.NodeRejection",
        node: "node-b",
        filter: "NodeResourcesFit",
        reason: "Insufficient cpu",
      },
    ]);
    expect(podCreates()).toHaveLength(0);
    expect(fake.api.getPod("default", "dry")).toBeUndefined();
    await client.close();
  });

  it("answers unschedulable with kube-scheduler's explanation and creates nothing", async () => {
    fake.api.addPod(
      makePod({ name: "small", nodeName: "node-a", requests: { cpu: "100m", memory: "128Mi" } }),
    );
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { podName: "too-big", cpuRequest: "4", memoryRequest: "8Gi" }),
    );
    expect(decision.status).toBe(DecisionStatus.UNSCHEDULABLE);
    expect(decision.message).toBe("0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.");
    expect(decision.rejections.map((r) => `${r.node} ${r.filter}: ${r.reason}`)).toEqual([
      "node-a NodeResourcesFit: Insufficient cpu, Insufficient memory",
      "node-b NodeResourcesFit: Insufficient cpu, Insufficient memory",
    ]);
    expect(service.scheduling?.summary().unschedulableReasons).toEqual({
      "Insufficient cpu": 1n,
      "Insufficient memory": 1n,
    });
    expect(podCreates()).toHaveLength(0);
    await client.close();
  });

  it("handles a 409 during bind: re-reads, binds once more only because the pod is still unbound", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    fake.api.faults.failNext({ method: "POST", pathPattern: "/bindings", status: 409, reason: "Conflict" });
    const decision = await client.request(scheduleRequest(root, client.clientId, { podName: "conflicted" }));
    expect(decision.status).toBe(DecisionStatus.SCHEDULED);
    expect(nodeOf("conflicted")).toBe(decision.node);
    expect(bindingPosts().map((r) => r.status)).toEqual([409, 201]);
    expect(
      fake.api.requests().filter((r) => r.method === "GET" && r.path.endsWith("/pods/conflicted")),
    ).toHaveLength(1);
    await client.close();
  });

  it("handles a 409 during bind when another binder won: reports where the pod really is", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    fake.api.faults.delay({ method: "POST", pathPattern: "/bindings", ms: 1000, count: 1 });
    const request = scheduleRequest(root, client.clientId, { podName: "contested" });
    const answer = client.request(request);
    await until(() => bindingPosts().length === 1, 5000, "our binding sent");
    await fake.api
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedPodBinding({
        name: "contested",
        namespace: "default",
        body: { metadata: { name: "contested" }, target: { kind: "Node", name: "node-b" } },
      });
    const decision = await answer;
    expect(decision).toMatchObject({ status: DecisionStatus.SCHEDULED, node: "node-b" });
    expect(decision.message).toBe("pod was already bound to node-b (this coordinator had chosen node-a)");
    expect(bindingPosts()).toHaveLength(1);
    expect(nodeOf("contested")).toBe("node-b");
    await client.close();
  });
});

describe("refused schedule requests", () => {
  it("refuses namespaces, registries, sizes and invalid fields, saying why, and creates nothing", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    await expectRejected(client, root, REFUSED_REQUESTS);
    expect(podCreates()).toHaveLength(0);
    expect(service.scheduling?.summary().rejected).toBe(BigInt(REFUSED_REQUESTS.length));
    await client.close();
  });

  it("rejects garbage payloads: with a reply when the envelope survives, counted either way", async () => {
    const service = await start();
    const client = await connectRequester(service.broker?.url ?? "", root);
    const valid = encode(
      "scheduleRequest",
      scheduleRequest(root, client.clientId, { requestId: "req-garbled" }),
    );
    // The first fields intact, then bytes that are no protobuf (a field with wire type 7).
    await client.publishRaw(new Uint8Array([...valid.subarray(0, 60), 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const decision = await client.waitFor("req-garbled");
    expect(decision.status).toBe(DecisionStatus.REJECTED);
    expect(decision.message).toContain("payload is not a ScheduleRequest");
    await client.publishRaw(new TextEncoder().encode('{"pod": "json is not protobuf"}'));
    await until(() => service.scheduling?.summary().rejected === 2n, 5000, "garbage counted");
    expect(client.decisions).toHaveLength(1);
    expect(podCreates()).toHaveLength(0);
    await client.close();
  });

  it("never publishes to a reply topic outside {root}/schedule/reply/", async () => {
    const service = await start();
    const url = service.broker?.url ?? "";
    const spy = await mqtt.connectAsync(url, { clientId: "spy" });
    const seen: string[] = [];
    spy.on("message", (topic) => seen.push(topic));
    await spy.subscribeAsync("#", { qos: 1 });
    const client = await connectRequester(url, root);
    for (const replyTo of [
      "evil/topic",
      `${root}/coordinator/report`,
      `${root}/schedule/reply/a/b`,
      `${root}/schedule/reply/+`,
    ]) {
      await client.publishRaw(encode("scheduleRequest", scheduleRequest(root, client.clientId, { replyTo })));
    }
    await until(() => service.scheduling?.summary().rejected === 4n, 5000, "refusals counted");
    await new Promise((r) => setTimeout(r, 100));
    const published = seen.filter(
      (t) =>
        !t.endsWith("/schedule/request") &&
        !t.includes("/node/") &&
        !t.endsWith("/coordinator/status") &&
        !t.includes("/coordinator/instance/"),
    );
    expect(published).toEqual([]);
    expect(podCreates()).toHaveLength(0);
    await spy.endAsync();
    await client.close();
  });
});
