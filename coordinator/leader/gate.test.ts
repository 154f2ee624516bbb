// The leader gate on VolumeBinding's PreBind writes: like the binding they precede, a claim annotation or a
// volume's claimRef is only written while this instance acts.
import { describe, expect, it } from "vitest";
import type { KubeActions } from "../placement/kube.ts";
import { gateKubeActions } from "./gate.ts";

function recording(): { kube: KubeActions; calls: string[] } {
  const calls: string[] = [];
  const kube: KubeActions = {
    createPod: async () => ({}),
    readPod: async () => undefined,
    bind: async () => {},
    recordEvent: async () => {},
    selectNode: async (claim, node) => {
      calls.push(`selectNode ${claim.metadata?.name} ${node}`);
    },
    bindVolume: async (pv, claim) => {
      calls.push(`bindVolume ${pv.metadata?.name} ${claim.metadata?.name}`);
    },
  };
  return { kube, calls };
}

describe("gateKubeActions: PreBind writes", () => {
  const claim = { metadata: { name: "data", namespace: "default" } };
  const pv = { metadata: { name: "disk" } };

  it("are passed on while acting", async () => {
    const { kube, calls } = recording();
    const gated = gateKubeActions(kube, () => true);
    await gated.selectNode?.(claim, "n1");
    await gated.bindVolume?.(pv, claim);
    expect(calls).toEqual(["selectNode data n1", "bindVolume disk data"]);
  });

  it("are refused, and nothing is written, once leadership is lost", async () => {
    const { kube, calls } = recording();
    const gated = gateKubeActions(kube, () => false);
    await expect(gated.selectNode?.(claim, "n1")).rejects.toThrow("no longer the leader");
    await expect(gated.bindVolume?.(pv, claim)).rejects.toThrow("no longer the leader");
    expect(calls).toEqual([]);
  });

  it("are absent when the wrapped actions lack them", () => {
    const { kube } = recording();
    const { selectNode: _s, bindVolume: _b, ...plain } = kube;
    const gated = gateKubeActions(plain, () => true);
    expect(gated.selectNode).toBeUndefined();
    expect(gated.bindVolume).toBeUndefined();
  });
});
