// The secondary scheduler against a Kubernetes API (the fake server, driven by the real client-node) and
// real MQTT (the embedded broker): pending pods with our schedulerName are bound to the engine's choice
// with Events, unschedulable pods wait and are bound once capacity appears, agents going offline steer
// pods away, a 409 on the binding is believed, and watch drops or 500s do not lose a pending pod.
import { CoreV1Api } from "@kubernetes/client-node";
import mqtt from "mqtt";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { encode, topicsFor } from "../proto/index.ts";
import { makeNode, makePod } from "./fake-apiserver/index.ts";
import { engineChoice } from "./support/engine-choice.ts";
import { useFakeCluster } from "./support/fake-cluster.ts";
import { birth, status, telemetry } from "./support/fleet-messages.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";

const fake = useFakeCluster({ topicRoot: topics.root, logger, dirPrefix: "k3s-fleet-sched-" });
const start = () => fake.start();

const pendingPod = (name: string, cpu = "500m", memory = "256Mi") =>
  makePod({ name, schedulerName: SCHEDULER, requests: { cpu, memory } });

const nodeOf = (name: string) => fake.nodeOf(name);
const eventsFor = (pod: string, reason: string) => fake.eventsFor(pod, reason);

const bindingPosts = () => fake.bindingPosts();

describe("secondary scheduler", () => {
  it("binds a pending pod with our schedulerName to the engine's choice and records a Scheduled event", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    fake.api.addNode(makeNode({ name: "node-b", cpu: "4", memory: "8Gi" }));
    fake.api.addPod(makePod({ name: "busy", nodeName: "node-a", requests: { cpu: "2", memory: "4Gi" } }));
    const svc = await start();

    // What the engine alone would choose for this pod on this cluster.
    const web = pendingPod("web");
    const expected = engineChoice(svc, { nodes: fake.api.listNodes(), pods: fake.api.listPods() }, web);
    expect(expected.node).toBe("node-b");

    fake.api.addPod(web);
    fake.api.addPod(makePod({ name: "not-ours", requests: { cpu: "100m" } })); // default-scheduler's pod
    expect(await until(() => nodeOf("web"), 5000, "web bound")).toBe(expected.node);

    const [scheduled] = await until(() => {
      const list = eventsFor("web", "Scheduled");
      return list.length > 0 && list;
    });
    expect(scheduled).toMatchObject({
      type: "Normal",
      message: "Successfully assigned default/web to node-b",
      reportingComponent: SCHEDULER,
    });
    expect(nodeOf("not-ours")).toBeUndefined();
    expect(bindingPosts()).toHaveLength(1);

    const summary = svc.scheduling?.summary();
    expect(summary?.scheduled).toBe(1n);
    expect(summary?.placementsPerNode).toEqual({ "node-b": 1n });
    // The outcome is followed: the pod reaching Running on that node is counted, and reported.
    fake.api.setPodPhase("default", "web", "Running");
    await until(() => svc.scheduling?.summary().reachedRunning === 1n, 5000, "reached running");
    expect(svc.coordinator.buildReportNow().scheduling).toMatchObject({
      decisions: 1n,
      scheduled: 1n,
      reachedRunning: 1n,
      placementsPerNode: { "node-b": 1n },
    });
  });

  it("records FailedScheduling for an unschedulable pod once, and binds it when capacity appears", async () => {
    fake.api.addNode(makeNode({ name: "small", cpu: "2", memory: "4Gi" }));
    const svc = await start();
    fake.api.addPod(pendingPod("big", "3", "1Gi"));

    const [failed] = await until(() => {
      const list = eventsFor("big", "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(failed).toMatchObject({
      type: "Warning",
      message:
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    });
    // Retried with backoff (100 ms doubling to 400 ms) ...
    await until(() => (svc.scheduling?.summary().unschedulable ?? 0n) >= 3n, 5000, "three attempts");
    // ... but the same explanation is not recorded again.
    expect(eventsFor("big", "FailedScheduling")).toHaveLength(1);
    expect(nodeOf("big")).toBeUndefined();

    fake.api.addNode(makeNode({ name: "large", cpu: "8", memory: "16Gi" }));
    expect(await until(() => nodeOf("big"), 5000, "big bound")).toBe("large");
    await until(() => eventsFor("big", "Scheduled").length === 1, 5000, "Scheduled event");
    expect(svc.scheduling?.summary().unschedulableReasons).toMatchObject({
      "Insufficient cpu": expect.any(BigInt),
    });
  });

  it("stops placing pods on a node whose agent went offline", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    fake.api.addNode(makeNode({ name: "node-b", cpu: "4", memory: "8Gi" }));
    fake.api.addPod(makePod({ name: "busy", nodeName: "node-a", requests: { cpu: "1", memory: "1Gi" } }));
    const svc = await start();
    const agent = await mqtt.connectAsync(svc.broker?.url ?? "", { clientId: "agent-node-b" });
    const publish = (topic: string, payload: Uint8Array) =>
      agent.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    await publish(
      topics.birth("node-b"),
      encode("birth", birth({ session: 1, nodeId: "node-b", intervalMs: 60_000 })),
    );
    await publish(topics.nodeStatus("node-b"), encode("nodeStatus", status("online", 1, Date.now())));
    await publish(
      topics.telemetry("node-b"),
      encode("telemetry", telemetry({ session: 1, seq: 1, cpu: 10, memory: 20, timeMs: Date.now() })),
    );
    await until(() => svc.coordinator.fleet.nodes.get("node-b")?.latest, 5000, "agent telemetry");

    fake.api.addPod(pendingPod("first"));
    expect(await until(() => nodeOf("first"), 5000, "first bound")).toBe("node-b");

    await publish(topics.nodeStatus("node-b"), encode("nodeStatus", status("offline", 1, Date.now())));
    await until(() => svc.coordinator.fleet.nodes.get("node-b")?.offline, 5000, "agent offline");
    fake.api.addPod(pendingPod("second"));
    fake.api.addPod(pendingPod("third"));
    expect(await until(() => nodeOf("second"), 5000, "second bound")).toBe("node-a");
    expect(await until(() => nodeOf("third"), 5000, "third bound")).toBe("node-a");
    await agent.endAsync();
  });

  it("believes a 409 on the binding: the pod another binder placed stays where it is, bound once", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    fake.api.addNode(makeNode({ name: "node-b", cpu: "4", memory: "8Gi" }));
    const svc = await start();
    // Our binding is held up; another scheduler binds the pod meanwhile.
    fake.api.faults.delay({ method: "POST", pathPattern: "/bindings", ms: 1000, count: 1 });
    fake.api.addPod(pendingPod("raced"));
    await until(() => bindingPosts().length === 1, 5000, "our binding sent");
    const core = fake.api.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedPodBinding({
      name: "raced",
      namespace: "default",
      body: { metadata: { name: "raced" }, target: { kind: "Node", name: "elsewhere" } },
    });
    await until(() => bindingPosts()[0]?.status === 409, 5000, "our binding refused");
    await until(() => (svc.scheduling?.summary().errors ?? 0n) >= 1n, 5000, "conflict recorded");
    await new Promise((r) => setTimeout(r, 300)); // time for a (wrong) retry to show up
    expect(nodeOf("raced")).toBe("elsewhere");
    expect(bindingPosts()).toHaveLength(1);
    expect(eventsFor("raced", "Scheduled")).toHaveLength(0);
  });

  it("retries a binding that failed with 500, and binds exactly once", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    const svc = await start();
    fake.api.faults.failNext({ method: "POST", pathPattern: "/bindings", status: 500 });
    fake.api.addPod(pendingPod("flaky"));
    expect(await until(() => nodeOf("flaky"), 5000, "flaky bound")).toBe("node-a");
    expect(bindingPosts().map((r) => r.status)).toEqual([500, 201]);
    await until(() => eventsFor("flaky", "Scheduled").length === 1, 5000, "Scheduled event");
    expect(svc.scheduling?.summary()).toMatchObject({ scheduled: 1n, errors: 1n });
    // The failed call is visible to Prometheus as a Kubernetes API error.
    const scraped = await svc.metrics.registry.getSingleMetricAsString("k3sfleet_kube_api_errors_total");
    expect(scraped).toMatch(/^k3sfleet_kube_api_errors_total\{operation="bind",code="500"\} 1$/m);
  });

  it("does not lose a pending pod when watches drop and the relist fails", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    await start();
    const podLists = () =>
      fake.api.requests().filter((r) => r.method === "GET" && r.path === "/api/v1/pods" && !r.watch);
    const listsBefore = podLists().length;
    // Every watch is cut, the history is compacted (resuming gets 410, so the informers relist), and the
    // next two pod lists fail with 500: the pod informer restarts with backoff until a list succeeds.
    fake.api.faults.failNext({
      method: "GET",
      pathPattern: /^\/api\/v1\/pods(\?(?!.*watch=true)|$)/,
      status: 500,
      count: 2,
    });
    fake.api.faults.dropWatches("reset");
    fake.api.addPod(pendingPod("survivor"));
    fake.api.compact();
    expect(await until(() => nodeOf("survivor"), 15_000, "survivor bound")).toBe("node-a");
    expect(
      podLists()
        .slice(listsBefore)
        .map((r) => r.status),
    ).toEqual([500, 500, 200]);
    await until(() => eventsFor("survivor", "Scheduled").length === 1, 5000, "Scheduled event");
    expect(bindingPosts()).toHaveLength(1);
  });

  it("after a clean watch end and a 410 relist, still binds a pending pod created meanwhile", async () => {
    fake.api.addNode(makeNode({ name: "node-a", cpu: "4", memory: "8Gi" }));
    await start();
    const podLists = () =>
      fake.api.requests().filter((r) => r.method === "GET" && r.path === "/api/v1/pods" && !r.watch);
    const listsBefore = podLists().length;
    fake.api.faults.dropWatches("end");
    fake.api.addPod(pendingPod("meanwhile"));
    fake.api.compact(); // the reconnecting watch gets 410 Expired and relists
    expect(await until(() => nodeOf("meanwhile"), 15_000, "bound after relist")).toBe("node-a");
    expect(podLists().length).toBeGreaterThan(listsBefore);
    expect(bindingPosts()).toHaveLength(1);
  });
});
