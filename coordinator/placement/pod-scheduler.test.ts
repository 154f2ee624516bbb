// The pending-pod path with constructor-injected fakes (fakeKube, real engine, real timers with short
// backoff). The end-to-end version (fake API server, informers) is test/scheduling-cluster.
import { describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../../common/timers.ts";
import { fakeKube, testCore } from "../../test/support/placement.ts";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import type { NodeInput } from "../scheduler/index.ts";
import type { PodObject } from "./inputs.ts";
import { createPodScheduler, isPendingFor } from "./pod-scheduler.ts";

const ours = (name: string, cpu = "500m", uid = `uid-${name}`): PodObject => {
  const pod = makePod(name, { uid, requests: [{ cpu, memory: "128Mi" }] });
  return { ...pod, spec: { ...pod.spec, schedulerName: "k3s-fleet" } };
};

async function eventually<T>(probe: () => T | undefined | false, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(nodes: NodeInput[], pods: PodObject[] = []) {
  const core = testCore(nodes, {}, Date.now);
  const k = fakeKube(pods);
  const inFlight = new Set<string>();
  const scheduler = createPodScheduler({ core, kube: k.kube, timers: REAL_TIMERS, inFlight });
  return { core, k, inFlight, scheduler };
}

const twoNodes = (): NodeInput[] => [
  { node: makeNode("a", { allocatable: capacity("2", "4Gi") }), pods: [] },
  { node: makeNode("b", { allocatable: capacity("2", "4Gi") }), pods: [] },
];

describe("isPendingFor", () => {
  it.each<[string, PodObject, boolean]>([
    ["ours, unbound", ours("p"), true],
    ["another scheduler's", makePod("p"), false],
    ["bound", { ...ours("p"), spec: { ...ours("p").spec, nodeName: "a" } }, false],
    ["finished", { ...ours("p"), status: { phase: "Failed" } }, false],
    [
      "being deleted",
      { ...ours("p"), metadata: { ...ours("p").metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } },
      false,
    ],
    [
      "gated",
      { ...ours("p"), spec: { ...ours("p").spec, schedulingGates: [{ name: "wait" }] } as PodObject["spec"] },
      false,
    ],
  ])("%s → %s", (_what, pod, expected) => {
    expect(isPendingFor(pod, "k3s-fleet")).toBe(expected);
  });
});

describe("pending-pod scheduler (fakes)", () => {
  it("binds pending pods one at a time, spreading them, with a Scheduled event each", async () => {
    const pods = [ours("p1"), ours("p2"), ours("p3"), ours("p4")];
    const { k, scheduler, core } = setup(twoNodes(), pods);
    for (const p of pods) scheduler.podChanged("add", p);
    await eventually(() => k.events.length === 4);
    const bound = [...k.pods.values()].map((p) => p.spec?.nodeName).sort();
    expect(bound).toEqual(["a", "a", "b", "b"]);
    expect(k.calls.filter((c) => c.startsWith("bind"))).toHaveLength(4);
    expect(scheduler.pending()).toBe(0);
    expect(core.analytics.summary().scheduled).toBe(4n);
    scheduler.stop();
  });

  it("leaves pods to the request path while it owns them, and pods it placed alone", async () => {
    const { k, scheduler, inFlight } = setup(twoNodes(), [ours("busy")]);
    inFlight.add("default/busy");
    scheduler.podChanged("add", ours("busy"));
    await new Promise((r) => setTimeout(r, 30));
    expect(k.calls).toEqual([]);
    expect(scheduler.pending()).toBe(0);
    scheduler.stop();
  });

  it("explains an unschedulable pod once, retries with backoff, and binds it when the cluster changes", async () => {
    const nodes = twoNodes();
    const { k, scheduler, core } = setup(nodes, [ours("big", "3")]);
    scheduler.podChanged("add", ours("big", "3"));
    await eventually(() => core.analytics.summary().unschedulable >= 3n);
    expect(k.events.map((e) => [e.reason, e.type, e.note])).toEqual([
      ["FailedScheduling", "Warning", "0/2 nodes are available: 2 Insufficient cpu."],
    ]);
    nodes.push({ node: makeNode("c", { allocatable: capacity("4", "8Gi") }), pods: [] });
    core.cache.invalidate();
    scheduler.clusterChanged();
    await eventually(() => k.pods.get("default/big")?.spec?.nodeName === "c");
    expect(k.events.at(-1)?.reason).toBe("Scheduled");
    scheduler.stop();
  });

  it("on a 409, re-reads: bound elsewhere stays there and is not bound again", async () => {
    const { k, scheduler, core } = setup(twoNodes(), [ours("p")]);
    const bind = k.kube.bind.bind(k.kube);
    k.kube.bind = async (ref, node) => {
      (k.pods.get("default/p")?.spec as { nodeName?: string }).nodeName = "other"; // someone was faster
      return bind(ref, node);
    };
    scheduler.podChanged("add", ours("p"));
    await eventually(() => core.analytics.summary().errors === 1n);
    await new Promise((r) => setTimeout(r, 50));
    expect(k.calls).toEqual(["bind default/p a", "read default/p"]);
    expect(k.pods.get("default/p")?.spec?.nodeName).toBe("other");
    expect(k.events).toEqual([]);
    expect(core.isAssumed("uid-p")).toBe(false);
    scheduler.stop();
  });

  it("on a 409 for a pod recreated under the same name, decides again for the new pod", async () => {
    const { k, scheduler } = setup(twoNodes(), [ours("p", "500m", "new-uid")]);
    k.fail("bind", 409, "Conflict", "Precondition failed: UID in precondition: old-uid");
    scheduler.podChanged("add", ours("p", "500m", "old-uid"));
    await eventually(() => k.pods.get("default/p")?.spec?.nodeName);
    expect(k.calls).toEqual(["bind default/p a", "read default/p", "bind default/p a"]);
    scheduler.stop();
  });

  it("retries after a 500 with backoff, and forgets a pod that was deleted", async () => {
    const { k, scheduler } = setup(twoNodes(), [ours("p"), ours("gone")]);
    k.fail("bind", 500);
    scheduler.podChanged("add", ours("p"));
    await eventually(() => k.pods.get("default/p")?.spec?.nodeName);
    expect(k.calls).toEqual(["bind default/p a", "bind default/p a"]);
    k.pods.delete("default/gone");
    scheduler.podChanged("add", ours("gone"));
    scheduler.podChanged("delete", ours("gone"));
    await new Promise((r) => setTimeout(r, 30));
    expect(k.calls.filter((c) => c.includes("gone"))).toEqual([]);
    expect(scheduler.pending()).toBe(0);
    scheduler.stop();
  });
});
