// Acting on a preemption with constructor-injected fakes: the victims are evicted with a Preempted Event
// naming the preemptor, the pod is nominated, PodDisruptionBudgets are read only when some node would do,
// a failed eviction stops there, and a nominated pod holds its node against every decision path (an MQTT
// request's manifest included).
import { describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../../common/timers.ts";
import { fakeKube, testCore } from "../../test/support/placement.ts";
import { prioPod } from "../../test/support/preemption.ts";
import { capacity, makeNode } from "../../test/support/scheduler.ts";
import type { NodeInput, Pod } from "../scheduler/index.ts";
import { KubeRequestError } from "./errors.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions, PodRef } from "./kube.ts";
import { decide } from "./place.ts";
import { createPodScheduler } from "./pod-scheduler.ts";
import { preemptFor } from "./preempt.ts";

const running = (name: string, node: string, priority: number): Pod =>
  prioPod(name, { node, priority, cpu: "1" });

function cluster(pods: Pod[]): NodeInput[] {
  return ["n1", "n2"].map((n) => ({
    node: makeNode(n, { allocatable: capacity("1", "4Gi") }),
    pods: pods.filter((p) => p.spec?.nodeName === n),
  }));
}

function preemptingKube(failEvict = false) {
  const base = fakeKube();
  const calls: string[] = [];
  const kube: KubeActions = {
    ...base.kube,
    async listPdbs() {
      calls.push("listPdbs");
      return [];
    },
    async nominate(pod: PodRef, node: string) {
      calls.push(`nominate ${pod.name} ${node}`);
    },
    async evict(victim: PodRef, message: string) {
      calls.push(`evict ${victim.name} ${victim.uid} (${message})`);
      if (failEvict) throw new KubeRequestError("evict", { status: 500, message: "HTTP 500" });
      return true;
    },
  };
  return { kube, calls, events: base.events };
}

describe("preemptFor", () => {
  it("evicts the victim with a Preempted Event, then nominates the pod", async () => {
    const core = testCore(cluster([running("low", "n1", 0), running("high", "n2", 2000)]));
    const pod = prioPod("vip", { priority: 1000, cpu: "1" }) as PodObject;
    const decision = decide(core, pod, core.now());
    const k = preemptingKube();
    const out = await preemptFor(core, k.kube, pod, decision);
    expect(out).toEqual({ kind: "nominated", node: "n1", victims: ["default/low"] });
    expect(k.calls).toEqual([
      "listPdbs",
      "evict low uid-low (k3s-fleet: preempting to accommodate a higher priority pod)",
      "nominate vip n1",
    ]);
    await new Promise((r) => setImmediate(r));
    expect(k.events).toEqual([
      expect.objectContaining({
        pod: { namespace: "default", name: "low", uid: "uid-low" },
        related: { namespace: "default", name: "vip", uid: "uid-vip" },
        type: "Normal",
        reason: "Preempted",
        action: "Preempting",
        note: "Preempted by pod uid-vip on node n1",
      }),
    ]);
  });

  it("reads no PodDisruptionBudget and evicts nothing when no node would do", async () => {
    const core = testCore(cluster([running("a", "n1", 1000), running("b", "n2", 1000)]));
    const pod = prioPod("vip", { priority: 1000, cpu: "1" }) as PodObject;
    const k = preemptingKube();
    const out = await preemptFor(core, k.kube, pod, decide(core, pod, core.now()));
    expect(out).toEqual({
      kind: "none",
      message: "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
      cleared: true,
    });
    expect(k.calls).toEqual([]);
  });

  it("stops at a failed eviction, nominating nothing", async () => {
    const core = testCore(cluster([running("low", "n1", 0), running("high", "n2", 2000)]));
    const pod = prioPod("vip", { priority: 1000, cpu: "1" }) as PodObject;
    const k = preemptingKube(true);
    const out = await preemptFor(core, k.kube, pod, decide(core, pod, core.now()));
    expect(out.kind).toBe("failed");
    expect(k.calls.filter((c) => c.startsWith("nominate"))).toEqual([]);
  });

  it("without preemption calls (a test double), does nothing", async () => {
    const core = testCore(cluster([running("low", "n1", 0), running("high", "n2", 2000)]));
    const pod = prioPod("vip", { priority: 1000, cpu: "1" }) as PodObject;
    expect(await preemptFor(core, fakeKube().kube, pod, decide(core, pod, core.now()))).toEqual({
      kind: "none",
      message: "",
      cleared: false,
    });
  });
});

describe("nominated pods in every decision (place.ts decide)", () => {
  it("an MQTT request's pod (no priority) does not take a node nominated to a waiting pod", () => {
    const core = testCore(cluster([running("high", "n2", 2000)]));
    const request = prioPod("asked", { cpu: "1" }) as PodObject;
    expect(decide(core, request, core.now()).node).toBe("n1");
    core.nominated.set(
      "default/vip",
      prioPod("vip", { priority: 1000, cpu: "1", nominated: "n1" }) as PodObject,
    );
    const d = decide(core, request, core.now());
    expect(d.status).toBe("unschedulable");
    expect(d.message).toBe("0/2 nodes are available: 2 Insufficient cpu.");
    // The snapshot itself is unchanged: the nominated pod was only held for the decision.
    expect(core.cache.get(core.now()).byName.get("n1")?.pods).toEqual([]);
  });
});

describe("the pending-pod path after a preemption", () => {
  it("drops the nomination of a lower-priority pod nominated to the same node", async () => {
    const core = testCore(cluster([running("low", "n1", 0), running("high", "n2", 2000)]), {}, Date.now);
    const k = preemptingKube();
    const ours = (name: string, priority: number, nominated?: string): PodObject => {
      const p = prioPod(name, { priority, cpu: "1", ...(nominated ? { nominated } : {}) });
      return { ...p, spec: { ...p.spec, schedulerName: "k3s-fleet" } } as PodObject;
    };
    const scheduler = createPodScheduler({ core, kube: k.kube, timers: REAL_TIMERS, inFlight: new Set() });
    scheduler.podChanged("add", ours("mid", 500, "n1"));
    expect(core.nominated.get("default/mid")?.status?.nominatedNodeName).toBe("n1");
    scheduler.podChanged("add", ours("vip", 1000));
    const deadline = Date.now() + 2000;
    while (!k.calls.includes("nominate mid ") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    scheduler.stop();
    expect(k.calls).toContain("nominate vip n1");
    expect(k.calls).toContain("nominate mid ");
    expect(core.nominated.get("default/vip")?.status?.nominatedNodeName).toBe("n1");
    expect(core.nominated.has("default/mid")).toBe(false);
  });
});
