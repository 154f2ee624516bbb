// Per-requester bounds on the MQTT request path (issue 12): requests a minute, CPU/memory of the pods a
// requester's requests created, and the bounded decision queue; each refusal carries its reason.
import { describe, expect, it } from "vitest";
import { DecisionStatus, encode, type ScheduleDecision, topicsFor } from "../../proto/index.ts";
import { fakeKube, scheduleRequest, testCore } from "../../test/support/placement.ts";
import { capacity, makeNode } from "../../test/support/scheduler.ts";
import type { PodObject } from "./inputs.ts";
import { createRequestHandler, DEFAULT_POLICY } from "./mqtt-requests.ts";
import { REQUESTED_BY_ANNOTATION } from "./quota.ts";
import type { SchedulingSettings } from "./settings.ts";

const root = topicsFor().root;
const nodes = () => [{ node: makeNode("node-a", { allocatable: capacity("16", "32Gi") }), pods: [] }];

function setup(settings: Partial<SchedulingSettings>, requester?: (clientId: string) => string) {
  const core = testCore(nodes(), settings);
  const k = fakeKube();
  const replies: ScheduleDecision[] = [];
  const handler = createRequestHandler({
    core,
    root,
    policy: DEFAULT_POLICY,
    cluster: {
      kube: k.kube,
      inFlight: new Set<string>(),
      handOff: () => undefined,
      ready: () => true,
      pods: () => [...k.pods.values()] as PodObject[],
    },
    ...(requester ? { requester: (r) => requester(r.clientId) } : {}),
    publish: async (_topic, d) => {
      replies.push(d);
    },
  });
  const send = (clientId: string, init: Parameters<typeof scheduleRequest>[2] = {}) =>
    handler.handle(encode("scheduleRequest", scheduleRequest(root, clientId, { clientId, ...init })));
  return { core, k, replies, send };
}

const unbounded = { requestsPerMinute: 0, cpuMillis: 0, memoryBytes: 0 };
/** The embedded broker with a users file: each client id here is its own broker user. */
const brokerUser = (clientId: string) => clientId;

describe("schedule request quotas", () => {
  it("refuses requests over the requester's rate with the reason, and counts per broker user", async () => {
    // Two client ids of one user share its bucket; another user has its own.
    const { replies, send } = setup({ quota: { ...unbounded, requestsPerMinute: 30 } }, (clientId) =>
      clientId.startsWith("ops-") ? "ops" : clientId,
    );
    for (let i = 0; i < 3; i++) await send("ops-1");
    await send("ops-2");
    await send("dev");
    expect(replies.map((d) => d.status)).toEqual([
      DecisionStatus.SCHEDULED,
      DecisionStatus.SCHEDULED,
      DecisionStatus.SCHEDULED,
      DecisionStatus.REJECTED,
      DecisionStatus.SCHEDULED,
    ]);
    expect(replies[3]?.message).toMatch(/more than 30 schedule requests a minute from ops/);
  });

  it("refuses a request that would take the requester's pods over its CPU quota; others are unaffected", async () => {
    const { k, replies, send } = setup({ quota: { ...unbounded, cpuMillis: 1000 } });
    await send("ops", { cpuRequest: "600m" });
    await send("ops", { cpuRequest: "500m" });
    await send("dev", { cpuRequest: "500m" });
    expect(replies.map((d) => d.status)).toEqual([
      DecisionStatus.SCHEDULED,
      DecisionStatus.REJECTED,
      DecisionStatus.SCHEDULED,
    ]);
    expect(replies[1]?.message).toMatch(/ops's pods request 600m CPU; 500m more would exceed its 1000m/);
    // The pods carry who asked; that is what the quota counts.
    const by = [...k.pods.values()].map((p) => p.metadata?.annotations?.[REQUESTED_BY_ANNOTATION]);
    expect(by).toEqual(["ops", "dev"]);
    // A pod that finished no longer counts.
    const first = [...k.pods.values()][0];
    if (first?.status) first.status.phase = "Succeeded";
    else if (first) first.status = { phase: "Succeeded" };
    await send("ops", { cpuRequest: "500m" });
    expect(replies.at(-1)?.status).toBe(DecisionStatus.SCHEDULED);
  });

  it("a request id is per requester: another requester's repeat of it gets no decision of someone else's", async () => {
    const { k, replies, send } = setup({}, brokerUser);
    await send("ops", { requestId: "r1", podName: "web" });
    await send("dev", { requestId: "r1", podName: "web" });
    await send("ops", { requestId: "r1", podName: "web" });
    expect(replies.map((d) => d.status)).toEqual([
      DecisionStatus.SCHEDULED,
      DecisionStatus.REJECTED,
      DecisionStatus.SCHEDULED,
    ]);
    expect(replies[1]?.message).toMatch(/request id r1 was used by another requester/);
    expect(replies[1]?.node).toBe("");
    expect(replies[2]).toEqual(replies[0]); // the owner's repeat: the same decision
    expect(k.calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
  });

  it("a request id is per requester also when its decision created no pod (unschedulable, dry run)", async () => {
    const { k, replies, send } = setup({}, brokerUser);
    await send("ops", { requestId: "big", podName: "big", nodeSelector: { zone: "none" } }); // fits nowhere
    await send("ops", { requestId: "dry", podName: "dry", dryRun: true });
    await send("dev", { requestId: "big", podName: "big", nodeSelector: { zone: "none" } });
    await send("dev", { requestId: "dry", podName: "dry", dryRun: true });
    await send("ops", { requestId: "dry", podName: "dry", dryRun: true });
    expect(replies.map((d) => d.status)).toEqual([
      DecisionStatus.UNSCHEDULABLE,
      DecisionStatus.SCHEDULED,
      DecisionStatus.REJECTED,
      DecisionStatus.REJECTED,
      DecisionStatus.SCHEDULED,
    ]);
    expect(replies[2]?.message).toMatch(/request id big was used by another requester/);
    expect(replies[3]?.message).toMatch(/request id dry was used by another requester/);
    expect(k.calls.filter((c) => c.startsWith("create"))).toHaveLength(0);
  });

  it("without a broker user (another broker), a repeat from a new client id is a retry, not a refusal", async () => {
    // `k3s-fleet schedule --request-id r1` run twice: a new random client id each run.
    const { k, replies, send } = setup({});
    await send("k3s-fleet-schedule-1", { requestId: "r1", podName: "web" });
    await send("k3s-fleet-schedule-2", { requestId: "r1", podName: "web" });
    expect(replies.map((d) => d.status)).toEqual([DecisionStatus.SCHEDULED, DecisionStatus.SCHEDULED]);
    expect(replies[1]).toEqual(replies[0]);
    expect(k.calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
  });

  it("refuses a request when the decision queue is full, with the reason", async () => {
    const { core, replies, send } = setup({ maxQueuedRequests: 2 });
    // Two decisions held in the queue.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const blocker = core.queue.run(() => held);
    const waiting = send("ops");
    await send("ops");
    expect(replies).toHaveLength(1);
    expect(replies[0]?.status).toBe(DecisionStatus.REJECTED);
    expect(replies[0]?.message).toMatch(/decision queue is full \(2 requests waiting\)/);
    release();
    await blocker;
    await waiting;
    expect(replies.at(-1)?.status).toBe(DecisionStatus.SCHEDULED);
  });
});
