// Preemption's Kubernetes calls (kube.ts) through the real client-node against the fake API server:
// PodDisruptionBudgets listed across namespaces, nominatedNodeName set and cleared on pods/status, a victim
// given DisruptionTarget before it is deleted with its uid as precondition, and a victim already gone or
// recreated under its name left alone (false, not an error).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeApiServer, makePod, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { createKubeActions, type KubeActions } from "./kube.ts";

let api: FakeApiServer;
let kube: KubeActions;

beforeAll(async () => {
  api = await startFakeApiServer();
  kube = createKubeActions({ kc: api.kubeConfig(), controller: "k3s-fleet", instance: "test" });
});
afterAll(() => api.close());

const refOf = (name: string) => {
  const pod = api.getPod("default", name);
  return { namespace: "default", name, uid: pod?.metadata.uid ?? "" };
};

describe("preemption calls", () => {
  it("lists PodDisruptionBudgets in every namespace", async () => {
    api.addPdb(
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "db", namespace: "kube-system" },
        spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
      },
      { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    );
    const pdbs = (await kube.listPdbs?.()) ?? [];
    expect(pdbs.map((p) => [p.metadata?.namespace, p.metadata?.name, p.status?.disruptionsAllowed])).toEqual([
      ["kube-system", "db", 0],
    ]);
  });

  it("sets and clears status.nominatedNodeName", async () => {
    api.addPod(makePod({ name: "vip", schedulerName: "k3s-fleet" }));
    await kube.nominate?.(refOf("vip"), "node-a");
    const status = api.getPod("default", "vip")?.status as { nominatedNodeName?: string } | undefined;
    expect(status?.nominatedNodeName).toBe("node-a");
    await kube.nominate?.(refOf("vip"), "");
    expect(api.getPod("default", "vip")?.status).not.toHaveProperty("nominatedNodeName");
  });

  it("evicts: DisruptionTarget on pods/status, then DELETE with the uid precondition", async () => {
    api.addPod(makePod({ name: "victim", nodeName: "node-a" }));
    const ref = refOf("victim");
    api.clearRequests();
    expect(
      await kube.evict?.(ref, "k3s-fleet: preempting to accommodate a higher priority pod", Date.now()),
    ).toBe(true);
    expect(api.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
      "PATCH /api/v1/namespaces/default/pods/victim/status",
      "DELETE /api/v1/namespaces/default/pods/victim",
    ]);
    expect(api.getPod("default", "victim")).toBeUndefined();
  });

  it("leaves a victim that is gone, or recreated under its name, alone", async () => {
    expect(await kube.evict?.({ namespace: "default", name: "nobody", uid: "u0" }, "m", Date.now())).toBe(
      false,
    );
    api.addPod(makePod({ name: "again", nodeName: "node-a" }));
    const old = refOf("again");
    api.deletePod("default", "again");
    api.addPod(makePod({ name: "again", nodeName: "node-a" }));
    api.clearRequests();
    expect(await kube.evict?.(old, "m", Date.now())).toBe(false);
    // The patch names the old uid, so the new pod gets no DisruptionTarget (422) and is not deleted.
    const again = api.getPod("default", "again");
    expect(again?.metadata.uid).not.toBe(old.uid);
    expect(
      (again?.status as { conditions?: { type: string }[] } | undefined)?.conditions ?? [],
    ).not.toContainEqual(expect.objectContaining({ type: "DisruptionTarget" }));
    expect(api.requests().map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 422"]);
  });
});
