// The Binding subresource through the real client: createNamespacedBinding (POST .../bindings) and
// createNamespacedPodBinding (POST .../pods/{name}/binding), with upstream's answers.
import type { V1Binding } from "@kubernetes/client-node";
import { beforeEach, describe, expect, it } from "vitest";
import { useFakeApiServer } from "../support/fake-api-server.ts";
import { failureOf } from "./client-status.ts";
import { makeNode, makePod } from "./index.ts";
import { rawRequest } from "./raw-client.ts";

const fake = useFakeApiServer((api) => api.addNode(makeNode({ name: "n1" })));
beforeEach(() => {
  for (const pod of fake.api.listPods()) fake.api.deletePod("default", pod.metadata.name ?? "");
  fake.api.addPod(makePod({ name: "p", schedulerName: "k3s-fleet" }));
  fake.api.clearRequests();
});

const binding = (pod: string, node: string, extra: Partial<V1Binding> = {}): V1Binding => ({
  apiVersion: "v1",
  kind: "Binding",
  metadata: { name: pod, namespace: "default", ...extra.metadata },
  target: { apiVersion: "v1", kind: "Node", name: node },
});

describe("Binding", () => {
  it("binds with 201 and a Success Status, sets nodeName and PodScheduled", async () => {
    const res = await rawRequest(fake.api, "POST", "/api/v1/namespaces/default/bindings", {
      body: binding("p", "n1"),
    });
    expect(res.code).toBe(201);
    expect(res.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      code: 201,
    });
    const pod = await fake.core.readNamespacedPod({ name: "p", namespace: "default" });
    expect(pod.spec?.nodeName).toBe("n1");
    expect(pod.status?.conditions).toEqual([
      expect.objectContaining({ type: "PodScheduled", status: "True", lastTransitionTime: expect.any(Date) }),
    ]);
    const binds = fake.api.requests().filter((r) => r.method === "POST" && r.path.endsWith("/bindings"));
    expect(binds).toHaveLength(1);
  });

  it("returns the Status to client-node, which reads it as a V1Binding", async () => {
    const res = await fake.core.createNamespacedBinding({ namespace: "default", body: binding("p", "n1") });
    expect(res).toEqual({ apiVersion: "v1", kind: "Status", metadata: {} });
  });

  it("merges the Binding's annotations into the pod", async () => {
    await fake.core.createNamespacedPodBinding({
      name: "p",
      namespace: "default",
      body: binding("p", "n1", { metadata: { name: "p", annotations: { "k3s-fleet/score": "87" } } }),
    });
    expect(fake.api.getPod("default", "p")?.metadata.annotations).toEqual({ "k3s-fleet/score": "87" });
  });

  it("answers a second bind with 409 Conflict on pods/binding", async () => {
    await fake.core.createNamespacedBinding({ namespace: "default", body: binding("p", "n1") });
    const failure = await failureOf(
      fake.core.createNamespacedBinding({ namespace: "default", body: binding("p", "n2") }),
    );
    expect(failure).toEqual({
      code: 409,
      status: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"',
        reason: "Conflict",
        details: { name: "p", kind: "pods/binding" },
        code: 409,
      },
    });
  });

  it("answers an unknown pod with 404 NotFound", async () => {
    const failure = await failureOf(
      fake.core.createNamespacedBinding({ namespace: "default", body: binding("ghost", "n1") }),
    );
    expect(failure).toMatchObject({
      code: 404,
      status: { reason: "NotFound", message: 'pods "ghost" not found' },
    });
  });

  it("answers a Binding named differently from the URL with 400 BadRequest", async () => {
    const failure = await failureOf(
      fake.core.createNamespacedPodBinding({ name: "p", namespace: "default", body: binding("other", "n1") }),
    );
    expect(failure).toMatchObject({
      code: 400,
      status: { reason: "BadRequest", message: "name in URL does not match name in Binding object" },
    });
  });

  it("does not check that the target node exists, like upstream", async () => {
    await fake.core.createNamespacedBinding({ namespace: "default", body: binding("p", "no-such-node") });
    expect(fake.api.getPod("default", "p")?.spec).toMatchObject({ nodeName: "no-such-node" });
  });

  it("checks a uid precondition (409)", async () => {
    const failure = await failureOf(
      fake.core.createNamespacedBinding({
        namespace: "default",
        body: binding("p", "n1", { metadata: { name: "p", uid: "00000000-0000-0000-0000-000000000000" } }),
      }),
    );
    expect(failure.status?.message).toMatch(
      /^Operation cannot be fulfilled on pods "p": Precondition failed: UID/,
    );
  });

  it("answers a Binding without target name with upstream's reasonless 500", async () => {
    const body = { ...binding("p", "n1"), target: { kind: "Node" } } as V1Binding;
    const failure = await failureOf(fake.core.createNamespacedBinding({ namespace: "default", body }));
    expect(failure.code).toBe(500);
    expect(failure.status).toMatchObject({ status: "Failure", message: "target.name: Required value" });
    expect(failure.status?.reason).toBeUndefined();
  });
});
