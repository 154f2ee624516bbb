// PodDisruptionBudgets and the pod calls preemption makes, through the real client-node: PDB create
// (status cleared, as upstream), status set as the disruption controller would, list across namespaces,
// watch; pod delete with a uid precondition (409 on a recreated pod, 404 when gone).
import { CoreV1Api, PolicyV1Api, type V1Pod, type V1PodDisruptionBudget } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, makePod, startFakeApiServer } from "./index.ts";

let api: FakeApiServer;
let policy: PolicyV1Api;
let core: CoreV1Api;

beforeAll(async () => {
  api = await startFakeApiServer();
  policy = api.kubeConfig().makeApiClient(PolicyV1Api);
  core = api.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(() => api.close());

const pdb = (name: string, namespace = "default"): V1PodDisruptionBudget => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name, namespace },
  spec: { minAvailable: 1, selector: { matchLabels: { app: name } } },
  status: { disruptionsAllowed: 5, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
});

describe("poddisruptionbudgets", () => {
  it("clears status on create; the test API sets it as the disruption controller would", async () => {
    const created = await policy.createNamespacedPodDisruptionBudget({
      namespace: "default",
      body: pdb("web"),
    });
    expect(created.status?.disruptionsAllowed).toBeUndefined();
    expect(created.metadata?.generation).toBe(1);
    api.addPdb(
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "db", namespace: "kube-system" },
        spec: { maxUnavailable: 0, selector: { matchLabels: { app: "db" } } },
      },
      { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
    );
    const list = await policy.listPodDisruptionBudgetForAllNamespaces();
    expect(
      list.items.map((p) => [p.metadata?.namespace, p.metadata?.name, p.status?.disruptionsAllowed]),
    ).toEqual([
      ["default", "web", undefined],
      ["kube-system", "db", 0],
    ]);
    expect(Number(list.metadata?.resourceVersion)).toBe(Number(api.resourceVersion));
  });

  it("refuses minAvailable and maxUnavailable together with 422", async () => {
    const both = pdb("both");
    both.spec = { ...both.spec, maxUnavailable: 1 };
    const failure = await failureOf(
      policy.createNamespacedPodDisruptionBudget({ namespace: "default", body: both }),
    );
    expect(failure).toMatchObject({ code: 422, status: { reason: "Invalid" } });
  });
});

describe("pod delete, as preemption calls it", () => {
  it("deletes with a uid precondition; a recreated pod is a 409, a gone one a 404", async () => {
    const first = await core.createNamespacedPod({
      namespace: "default",
      body: makePod({ name: "victim" }) as V1Pod,
    });
    await core.deleteNamespacedPod({ name: "victim", namespace: "default" });
    await core.createNamespacedPod({ namespace: "default", body: makePod({ name: "victim" }) as V1Pod });
    const conflict = await failureOf(
      core.deleteNamespacedPod({
        name: "victim",
        namespace: "default",
        body: { preconditions: { uid: first.metadata?.uid ?? "" } },
      }),
    );
    expect(conflict).toMatchObject({ code: 409, status: { reason: "Conflict" } });
    await core.deleteNamespacedPod({ name: "victim", namespace: "default" });
    const gone = await failureOf(core.deleteNamespacedPod({ name: "victim", namespace: "default" }));
    expect(gone).toMatchObject({ code: 404, status: { reason: "NotFound" } });
  });
});
