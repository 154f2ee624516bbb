import mqtt from "mqtt";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { encode, topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { engineChoice } from "../support/engine-choice.ts";
import { birth, status, telemetry } from "../support/fleet-messages.ts";
import { KWOK_NODE_ANNOTATION } from "../support/kube-apiserver.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import { useRealCluster } from "../support/real-cluster.ts";
import { until } from "../support/until.ts";
import { addNode, addPod, coordinatorRequests, eventsFor, eventually, isCall, nodeOf } from "./cluster.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";
const available = realApiServerAvailable();

const real = useRealCluster({
  topicRoot: topics.root,
  logger,
  dirPrefix: "k3s-fleet-real-sched-",
  apiServer: { kwok: true },
  skip: !available,
});
/** Each test uses its own names: the control plane is shared by the file (starting one takes seconds). */
const { unique } = real;
const start = () => real.start();

const pendingPod = (name: string, cpu = "500m", memory = "256Mi") =>
  makePod({ name, schedulerName: SCHEDULER, requests: { cpu, memory } });
const bindings = () => coordinatorRequests(real.cluster.api).filter(isCall("create", "bindings"));
const bindingsOf = (pod: string) => bindings().filter((r) => r.objectRef?.name === pod);

describe.skipIf(!available)("secondary scheduler against a real kube-apiserver", () => {
  it("binds a pending pod to the engine's choice, records Scheduled, and counts it reaching Running (kwok)", async () => {
    const { core } = real.cluster;
    const [a, b] = [unique("node-a"), unique("node-b")];
    await addNode(core, { name: a, cpu: "4", memory: "8Gi", annotations: KWOK_NODE_ANNOTATION });
    await addNode(core, { name: b, cpu: "4", memory: "8Gi", annotations: KWOK_NODE_ANNOTATION });
    await addPod(core, makePod({ name: unique("busy"), nodeName: a, requests: { cpu: "2", memory: "4Gi" } }));
    const svc = await start();

    const web = pendingPod(unique("web"));
    const nodes = (await core.listNode()).items;
    const pods = (await core.listPodForAllNamespaces()).items;
    const expected = engineChoice(svc, { nodes, pods }, web);
    expect(expected.node).toBe(b);

    await addPod(core, web);
    await addPod(core, makePod({ name: unique("not-ours"), requests: { cpu: "100m" } }));
    expect(await eventually(() => nodeOf(core, unique("web")), 15_000, "web bound")).toBe(b);

    const [scheduled] = await eventually(async () => {
      const list = await eventsFor(core, unique("web"), "Scheduled");
      return list.length > 0 && list;
    });
    expect(scheduled).toMatchObject({
      type: "Normal",
      message: `Successfully assigned default/${unique("web")} to ${b}`,
      reportingComponent: SCHEDULER,
    });
    expect(await nodeOf(core, unique("not-ours"))).toBeUndefined();
    expect(bindingsOf(unique("web"))).toHaveLength(1);
    expect(bindingsOf(unique("web"))[0]?.responseStatus?.code).toBe(201);

    // kwok plays the kubelet on these nodes: the bound pod reaches Running, and that outcome is counted.
    await until(() => svc.scheduling?.summary().reachedRunning === 1n, 30_000, "reached running");
    expect(svc.coordinator.buildReportNow().scheduling).toMatchObject({
      decisions: 1n,
      scheduled: 1n,
      reachedRunning: 1n,
      placementsPerNode: { [b]: 1n },
    });
  }, 60_000);

  it("records FailedScheduling for an unschedulable pod once, and binds it when capacity appears", async () => {
    const { core } = real.cluster;
    await addNode(core, { name: unique("small"), cpu: "2", memory: "4Gi" });
    const svc = await start();
    await addPod(core, pendingPod(unique("big"), "3", "1Gi"));

    const [failed] = await eventually(async () => {
      const list = await eventsFor(core, unique("big"), "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(failed).toMatchObject({
      type: "Warning",
      message:
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    });
    await until(() => (svc.scheduling?.summary().unschedulable ?? 0n) >= 3n, 10_000, "three attempts");
    expect(await eventsFor(core, unique("big"), "FailedScheduling")).toHaveLength(1);
    expect(await nodeOf(core, unique("big"))).toBeUndefined();
    // As kube-scheduler does: the pod's PodScheduled condition says False, Unschedulable, with the message
    // (a strategic merge patch of pods/status, allowed by deploy/k3s's RBAC and nothing more).
    const condition = await eventually(async () => {
      const pod = await core.readNamespacedPod({ namespace: "default", name: unique("big") });
      return pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    });
    expect(condition).toMatchObject({
      reason: "Unschedulable",
      message:
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    });

    await addNode(core, { name: unique("large"), cpu: "8", memory: "16Gi" });
    expect(await eventually(() => nodeOf(core, unique("big")), 15_000, "big bound")).toBe(unique("large"));
    await eventually(async () => (await eventsFor(core, unique("big"), "Scheduled")).length === 1);
  }, 60_000);

  it("stops placing pods on a node whose agent went offline", async () => {
    const { core } = real.cluster;
    const [a, b] = [unique("node-a"), unique("node-b")];
    await addNode(core, { name: a, cpu: "4", memory: "8Gi" });
    await addNode(core, { name: b, cpu: "4", memory: "8Gi" });
    await addPod(core, makePod({ name: unique("busy"), nodeName: a, requests: { cpu: "1", memory: "1Gi" } }));
    const svc = await start();
    const agent = await mqtt.connectAsync(svc.broker?.url ?? "", { clientId: `agent-${b}` });
    const publish = (topic: string, payload: Uint8Array) =>
      agent.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    await publish(topics.birth(b), encode("birth", birth({ session: 1, nodeId: b, intervalMs: 60_000 })));
    await publish(topics.nodeStatus(b), encode("nodeStatus", status("online", 1, Date.now())));
    await publish(
      topics.telemetry(b),
      encode("telemetry", telemetry({ session: 1, seq: 1, cpu: 10, memory: 20, timeMs: Date.now() })),
    );
    await until(() => svc.coordinator.fleet.nodes.get(b)?.latest, 5000, "agent telemetry");

    await addPod(core, pendingPod(unique("first")));
    expect(await eventually(() => nodeOf(core, unique("first")), 15_000, "first bound")).toBe(b);

    await publish(topics.nodeStatus(b), encode("nodeStatus", status("offline", 1, Date.now())));
    await until(() => svc.coordinator.fleet.nodes.get(b)?.offline, 5000, "agent offline");
    await addPod(core, pendingPod(unique("second")));
    await addPod(core, pendingPod(unique("third")));
    expect(await eventually(() => nodeOf(core, unique("second")), 15_000, "second bound")).toBe(a);
    expect(await eventually(() => nodeOf(core, unique("third")), 15_000, "third bound")).toBe(a);
    await agent.endAsync();
  }, 60_000);

  it("races another binder for real: the pod is bound once, and the loser believes the API server's 409", async () => {
    const { core } = real.cluster;
    const a = unique("node-a");
    await addNode(core, { name: a, cpu: "4", memory: "8Gi" });
    const svc = await start();
    // The test binds the pod elsewhere as soon as it exists; the coordinator tries too. Who wins is up to the
    // real server (the fake can hold one binding up to choose): both outcomes are checked.
    await addPod(core, pendingPod(unique("raced")));
    const winner = await core
      .createNamespacedPodBinding({
        name: unique("raced"),
        namespace: "default",
        body: { metadata: { name: unique("raced") }, target: { kind: "Node", name: "elsewhere" } },
      })
      .then(
        () => "test",
        (err: { code?: number }) => {
          expect(err.code).toBe(409);
          return "coordinator";
        },
      );
    await addPod(core, pendingPod(unique("after")));
    expect(await eventually(() => nodeOf(core, unique("after")), 15_000, "after bound")).toBe(a);
    const codes = bindingsOf(unique("raced")).map((r) => r.responseStatus?.code);
    if (winner === "test") {
      const scheduled = await eventsFor(core, unique("raced"), "Scheduled");
      expect(await nodeOf(core, unique("raced"))).toBe("elsewhere");
      expect(codes).toEqual(codes.length ? [409] : []); // refused once, never retried
      expect(scheduled).toHaveLength(0);
      expect(svc.scheduling?.summary().scheduled).toBe(1n);
    } else {
      expect(await nodeOf(core, unique("raced"))).toBe(a);
      expect(codes).toEqual([201]);
      await eventually(async () => (await eventsFor(core, unique("raced"), "Scheduled")).length === 1);
      expect(svc.scheduling?.summary().scheduled).toBe(2n);
    }
  }, 60_000);

  it("survives an API server restart with history compacted: informers relist (410) and bind a pod created meanwhile", async () => {
    const { core, api } = real.cluster;
    await addNode(core, { name: unique("node-a"), cpu: "4", memory: "8Gi" });
    const svc = await start();
    const podLists = () => coordinatorRequests(api).filter(isCall("list", "pods")).length;
    const listsBefore = podLists();
    // Writes the pod informer does not see (a namespace), so its resourceVersion falls behind; then the
    // history before now is compacted and the API server restarts: every watch drops, and the pod informer,
    // resuming from its old resourceVersion, gets 410 Expired and must relist.
    await core.createNamespace({ body: { metadata: { name: unique("bump") } } });
    const compactedAt = await api.compact();
    const auditBefore = coordinatorRequests(api).length;
    await api.restartApiServer();
    await addPod(core, pendingPod(unique("meanwhile")));
    expect(await eventually(() => nodeOf(core, unique("meanwhile")), 30_000, "bound after relist")).toBe(
      unique("node-a"),
    );
    expect(podLists()).toBeGreaterThan(listsBefore);
    // The audit log shows the resume: a pod watch from a resourceVersion before the compaction (answered with
    // 410 Expired in the stream), and a list after the restart.
    const after = coordinatorRequests(api).slice(auditBefore);
    const resumedFrom = after
      .filter(isCall("watch", "pods"))
      .map((r) => Number(new URL(r.requestURI, "https://x").searchParams.get("resourceVersion")));
    expect(resumedFrom.some((rv) => rv > 0 && rv < compactedAt)).toBe(true);
    expect(after.some(isCall("list", "pods"))).toBe(true);
    expect(bindingsOf(unique("meanwhile"))).toHaveLength(1);
    await eventually(async () => (await eventsFor(core, unique("meanwhile"), "Scheduled")).length === 1);
    expect(svc.cluster?.synced()).toBe(true);
  }, 90_000);
});
