// The leadership gate on preemption's Kubernetes calls: a coordinator that no longer leads lists
// PodDisruptionBudgets (a read) but neither evicts nor nominates.
import { describe, expect, it } from "vitest";
import type { KubeActions, PodRef } from "../placement/kube.ts";
import { gateKubeActions } from "./gate.ts";

const ref: PodRef = { namespace: "default", name: "victim", uid: "u1" };

function recording() {
  const calls: string[] = [];
  const kube: KubeActions = {
    createPod: () => Promise.reject(new Error("unused")),
    readPod: () => Promise.resolve(undefined),
    bind: () => Promise.resolve(),
    recordEvent: () => Promise.resolve(),
    listPdbs: async () => {
      calls.push("listPdbs");
      return [];
    },
    nominate: async (pod, node) => {
      calls.push(`nominate ${pod.name} ${node}`);
    },
    evict: async (victim) => {
      calls.push(`evict ${victim.name}`);
      return true;
    },
  };
  return { kube, calls };
}

describe("gateKubeActions and preemption", () => {
  it("passes every call through while leading", async () => {
    const { kube, calls } = recording();
    const gated = gateKubeActions(kube, () => true);
    await gated.listPdbs?.();
    expect(await gated.evict?.(ref, "m", 0)).toBe(true);
    await gated.nominate?.(ref, "n1");
    expect(calls).toEqual(["listPdbs", "evict victim", "nominate victim n1"]);
  });

  it("refuses evictions and nominations once leadership is lost", async () => {
    const { kube, calls } = recording();
    const gated = gateKubeActions(kube, () => false);
    await expect(gated.evict?.(ref, "m", 0)).rejects.toThrow(/no longer the leader/);
    await expect(gated.nominate?.(ref, "n1")).rejects.toThrow(/no longer the leader/);
    await gated.listPdbs?.();
    expect(calls).toEqual(["listPdbs"]);
  });
});
