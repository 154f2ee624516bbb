// The MQTT request path with constructor-injected fakes: a fake Kubernetes (fakeKube), a real engine and
// an in-memory store. The end-to-end version (real MQTT, fake API server) is test/scheduling-requests.
import { describe, expect, it } from "vitest";
import { DecisionStatus, encode, type ScheduleDecision, topicsFor } from "../../proto/index.ts";
import { fakeKube, scheduleRequest, testCore } from "../../test/support/placement.ts";
import { capacity, makeNode } from "../../test/support/scheduler.ts";
import type { PodObject } from "./inputs.ts";
import { createRequestHandler, DEFAULT_POLICY } from "./mqtt-requests.ts";

const root = topicsFor().root;
const nodes = () => [
  { node: makeNode("node-a", { allocatable: capacity("4", "8Gi") }), pods: [] },
  { node: makeNode("node-b", { allocatable: capacity("2", "4Gi") }), pods: [] },
];

function setup(options: { standalone?: boolean; settings?: Parameters<typeof testCore>[1] } = {}) {
  let ready = true;
  const core = testCore(nodes(), options.settings);
  const k = fakeKube();
  const replies: Array<[string, ScheduleDecision]> = [];
  const handedOff: PodObject[] = [];
  const handler = createRequestHandler({
    core,
    root,
    policy: DEFAULT_POLICY,
    ...(options.standalone
      ? {}
      : {
          cluster: {
            kube: k.kube,
            inFlight: new Set<string>(),
            handOff: (p: PodObject) => handedOff.push(p),
            ready: () => ready,
          },
        }),
    publish: async (topic, d) => {
      replies.push([topic, d]);
    },
  });
  const send = async (init: Parameters<typeof scheduleRequest>[2] = {}) => {
    const request = scheduleRequest(root, "cli", init);
    await handler.handle(encode("scheduleRequest", request));
    return replies.at(-1)?.[1] as ScheduleDecision;
  };
  const setReady = (value: boolean) => {
    ready = value;
  };
  return { core, k, replies, handedOff, handler, send, setReady };
}

describe("schedule requests (fakes)", () => {
  it("creates, binds, records a Scheduled event, and answers on the reply topic", async () => {
    const { k, replies, send } = setup();
    const d = await send({ podName: "web", requestId: "r1" });
    expect(d).toMatchObject({ status: DecisionStatus.SCHEDULED, node: "node-a", podUid: "uid-1" });
    expect(replies[0]?.[0]).toBe(`${root}/schedule/reply/cli`);
    expect(k.calls).toEqual(["create default/web", "bind default/web node-a"]);
    await new Promise((r) => setImmediate(r));
    expect(k.events.map((e) => [e.reason, e.note])).toEqual([
      ["Scheduled", "Successfully assigned default/web to node-a"],
    ]);
  });

  it("answers a repeat from the store without touching Kubernetes", async () => {
    const { k, send, handler } = setup();
    const first = await send({ podName: "web", requestId: "r1" });
    const calls = k.calls.length;
    expect(await send({ podName: "web", requestId: "r1" })).toEqual(first);
    expect(k.calls).toHaveLength(calls);
    expect(handler.repeats).toBe(1);
  });

  it("turns a pod the API server refuses (422) into a rejection, and forgets the request id", async () => {
    const { k, core, send } = setup();
    k.fail("createPod", 422, "Invalid", 'Pod "web" is invalid: spec.containers[0].image: Required value');
    const d = await send({ podName: "web", requestId: "r1" });
    expect(d.status).toBe(DecisionStatus.REJECTED);
    expect(d.message).toContain("Kubernetes refused the pod: ");
    expect(d.message).toContain('Pod "web" is invalid: spec.containers[0].image: Required value');
    expect(core.storedRequest("r1")).toBeUndefined();
  });

  it("after an ambiguous create failure, a repeat finds the pod and finishes it: one create in all", async () => {
    const { k, core, send } = setup();
    // The server stored the pod but the answer was lost.
    const created = k.kube.createPod.bind(k.kube);
    k.kube.createPod = async (pod) => {
      await created(pod);
      k.kube.createPod = created;
      throw new Error("socket hang up");
    };
    const first = await send({ podName: "web", requestId: "r1" });
    expect(first.status).toBe(DecisionStatus.ERROR);
    expect(first.message).toContain("cannot create pod default/web");
    expect(core.storedRequest("r1")?.state).toBe("creating");
    const second = await send({ podName: "web", requestId: "r1" });
    expect(second).toMatchObject({ status: DecisionStatus.SCHEDULED, node: "node-a", podUid: "uid-1" });
    expect(k.calls).toEqual(["create default/web", "read default/web", "bind default/web node-a"]);
  });

  it("retries a failing bind, then hands the unbound pod to the pending-pod scheduler", async () => {
    const { k, send, handedOff, core } = setup({ settings: { bindRetries: 2 } });
    k.fail("bind", 500);
    k.fail("bind", 503);
    k.fail("bind", undefined, "", "ECONNRESET");
    const d = await send({ podName: "web", requestId: "r1" });
    expect(d.status).toBe(DecisionStatus.ERROR);
    expect(d.message).toMatch(
      /^pod default\/web was created but not bound yet \(.*ECONNRESET\); the scheduler keeps trying$/,
    );
    expect(d.podUid).toBe("uid-1");
    expect(k.calls.filter((c) => c.startsWith("bind"))).toHaveLength(3);
    expect(handedOff.map((p) => p.metadata?.name)).toEqual(["web"]);
    expect(core.isAssumed("uid-1")).toBe(false);
  });

  it("a pod deleted before binding (404) is an error and nothing is kept", async () => {
    const { k, send, core } = setup();
    k.fail("bind", 404, "NotFound");
    k.kube.readPod = async () => undefined;
    const d = await send({ podName: "web", requestId: "r1" });
    expect(d).toMatchObject({
      status: DecisionStatus.ERROR,
      message: "pod default/web was deleted before it could be bound",
    });
    expect(core.storedRequest("r1")).toBeUndefined();
  });

  it("standalone and dry-run decide without Kubernetes and keep nothing", async () => {
    const standalone = setup({ standalone: true });
    expect(await standalone.send({ requestId: "s1" })).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      advisory: true,
      podUid: "",
    });
    expect(standalone.core.storedRequest("s1")).toBeUndefined();
    const dry = setup();
    expect(await dry.send({ requestId: "d1", dryRun: true })).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      advisory: false,
    });
    expect(dry.k.calls).toEqual([]);
    // A pod placed in a dry run does not count on its node afterwards.
    expect(dry.core.scheduler.assumed.list()).toEqual([]);
  });

  it("an unschedulable request creates nothing and is answered the same way on repeat", async () => {
    const { k, send, core } = setup();
    const d = await send({
      requestId: "big",
      cpuRequest: "4",
      memoryRequest: "8Gi",
      nodeSelector: { "kubernetes.io/hostname": "node-b" },
    });
    expect(d.status).toBe(DecisionStatus.UNSCHEDULABLE);
    expect(d.message).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector.",
    );
    expect(k.calls).toEqual([]);
    expect(core.storedRequest("big")?.state).toBe("done");
    expect(core.analytics.summary().unschedulableReasons).toEqual({
      "Insufficient cpu": 1n,
      "Insufficient memory": 1n,
      "node(s) didn't match Pod's node affinity/selector": 1n,
    });
  });

  it("keeps decisions one at a time: a burst of requests spreads instead of piling onto one node", async () => {
    const { replies, handler } = setup();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        handler.handle(
          encode(
            "scheduleRequest",
            scheduleRequest(root, "cli", { podName: `w${i}`, cpuRequest: "1", memoryRequest: "1Gi" }),
          ),
        ),
      ),
    );
    const placed = replies.map(([, d]) => d.node).sort();
    // node-a fits 4 of them, node-b 2: everything fits only if no two decisions saw the same free capacity.
    expect(placed).toEqual(["node-a", "node-a", "node-a", "node-a", "node-b", "node-b"]);
  });

  it("asks for a retry instead of deciding before the cluster is listed", async () => {
    const { k, send, core, setReady } = setup();
    setReady(false);
    const d = await send({ podName: "early", requestId: "early" });
    expect(d).toMatchObject({
      status: DecisionStatus.ERROR,
      message: "the coordinator has not listed the cluster yet; retry shortly",
    });
    expect(k.calls).toEqual([]);
    expect(core.storedRequest("early")).toBeUndefined();
    setReady(true);
    expect((await send({ podName: "early", requestId: "early" })).status).toBe(DecisionStatus.SCHEDULED);
  });
});
