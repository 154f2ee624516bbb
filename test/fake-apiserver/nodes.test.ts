// Node CRUD through the real CoreV1Api, and makeNode producing what a K3s kubelet registers.
import type { V1Node } from "@kubernetes/client-node";
import { Node } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { useFakeApiServer } from "../support/fake-api-server.ts";
import { failureOf } from "./client-status.ts";
import { makeNode } from "./index.ts";

const fake = useFakeApiServer();

describe("makeNode", () => {
  it("builds a schema-valid Ready node with capacity, allocatable and kubelet conditions", () => {
    const node = makeNode({ name: "edge-1", cpu: "2", memory: "4Gi", labels: { zone: "a" } });
    expect(() => new Node(node).validate()).not.toThrow();
    expect(node.status?.allocatable).toMatchObject({ cpu: "2", memory: "4Gi", pods: "110" });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.metadata?.labels).toMatchObject({ "kubernetes.io/hostname": "edge-1", zone: "a" });
    expect(node.spec?.taints).toBeUndefined();
  });

  it("adds the taints the node controllers add for NotReady and cordoned nodes", () => {
    const node = makeNode({ name: "sick", ready: false, unschedulable: true });
    expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      "node.kubernetes.io/not-ready:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unschedulable:NoSchedule",
    ]);
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("Unknown");
  });
});

describe("nodes API", () => {
  it("creates, reads, cordons with an update, and deletes (answering a Status)", async () => {
    const created = await fake.core.createNode({ body: makeNode({ name: "n1" }) as V1Node });
    expect(created.status?.allocatable?.cpu).toBe("4");
    const cordoned = await fake.core.replaceNode({
      name: "n1",
      body: { ...created, spec: { ...created.spec, unschedulable: true } },
    });
    expect(cordoned.spec?.unschedulable).toBe(true);
    const listed = await fake.core.listNode({ fieldSelector: "spec.unschedulable=true" });
    expect(listed.items.map((n) => n.metadata?.name)).toEqual(["n1"]);
    const status = await fake.core.deleteNode({ name: "n1" });
    expect(status).toMatchObject({ status: "Success", details: { name: "n1", kind: "nodes" } });
    expect((await failureOf(fake.core.readNode({ name: "n1" }))).code).toBe(404);
  });

  it("keeps status on a main-resource update and spec on a status update", async () => {
    const node = await fake.core.createNode({ body: makeNode({ name: "n2" }) as V1Node });
    node.status = { ...node.status, allocatable: { cpu: "1" } };
    node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, role: "edge" } };
    const replaced = await fake.core.replaceNode({ name: "n2", body: node });
    expect(replaced.status?.allocatable?.cpu).toBe("4");
    expect(replaced.metadata?.labels?.role).toBe("edge");
    const statusPatched = await fake.core.replaceNodeStatus({
      name: "n2",
      body: {
        ...replaced,
        status: { ...replaced.status, allocatable: { cpu: "3" } },
        spec: { unschedulable: true },
      },
    });
    expect(statusPatched.status?.allocatable?.cpu).toBe("3");
    expect(statusPatched.spec?.unschedulable).toBeUndefined();
  });

  it("validates taints: a missing effect is 422", async () => {
    const body = makeNode({ name: "bad", taints: [{ key: "k" } as never] });
    const failure = await failureOf(fake.core.createNode({ body: body as V1Node }));
    expect(failure).toMatchObject({
      code: 422,
      status: { details: { causes: [{ field: "spec.taints[0].effect" }] } },
    });
  });

  it("lets the test API flip readiness like a kubelet", async () => {
    fake.api.addNode(makeNode({ name: "n3" }));
    fake.api.updateNode("n3", (node) => {
      const status = node.status as { conditions: Array<{ type: string; status: string }> };
      for (const c of status.conditions) if (c.type === "Ready") c.status = "False";
    });
    const node = await fake.core.readNode({ name: "n3" });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  });
});
