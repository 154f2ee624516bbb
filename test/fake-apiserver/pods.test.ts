// Pod CRUD through the real CoreV1Api: defaulting, validation (422), conflicts (409), selectors, paging,
// spec/status split and the pod update rules.
import type { V1Pod } from "@kubernetes/client-node";
import { beforeEach, describe, expect, it } from "vitest";
import { useFakeApiServer } from "../support/fake-api-server.ts";
import { failureOf } from "./client-status.ts";
import { makePod } from "./index.ts";

const fake = useFakeApiServer();
beforeEach(() => {
  for (const pod of fake.api.listPods())
    fake.api.deletePod(pod.metadata.namespace ?? "", pod.metadata.name ?? "");
});

const create = (pod: object, namespace = "default") =>
  fake.core.createNamespacedPod({ namespace, body: pod as V1Pod });

describe("create", () => {
  it("stores the pod with server-populated metadata, defaults and a Pending status", async () => {
    const pod = await create(makePod({ name: "web", limits: { cpu: "500m", memory: "256Mi" } }));
    expect(pod.metadata).toMatchObject({ name: "web", namespace: "default" });
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(pod.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(pod.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(pod.spec).toMatchObject({
      schedulerName: "default-scheduler",
      restartPolicy: "Always",
      priority: 0,
    });
    // SetDefaults_Pod copies limits to missing requests.
    expect(pod.spec?.containers[0]?.resources?.requests).toEqual({ cpu: "500m", memory: "256Mi" });
    expect(pod.spec?.tolerations?.map((t) => t.key)).toEqual([
      "node.kubernetes.io/not-ready",
      "node.kubernetes.io/unreachable",
    ]);
    expect(pod.status).toEqual({ phase: "Pending", qosClass: "Guaranteed" });
  });

  it("generates a name from generateName", async () => {
    const pod = await create(makePod({ generateName: "job-" }));
    expect(pod.metadata?.name).toMatch(/^job-[a-z0-9]{5}$/);
  });

  it("answers a duplicate name with 409 AlreadyExists", async () => {
    await create(makePod({ name: "dup" }));
    const failure = await failureOf(create(makePod({ name: "dup" })));
    expect(failure.code).toBe(409);
    expect(failure.status).toMatchObject({
      reason: "AlreadyExists",
      message: 'pods "dup" already exists',
      details: { name: "dup", kind: "pods" },
    });
  });

  it("answers a container without image with 422 Invalid and a cause per field", async () => {
    const body = { metadata: { name: "noimage" }, spec: { containers: [{ name: "c" }] } };
    const failure = await failureOf(create(body));
    expect(failure.code).toBe(422);
    expect(failure.status).toMatchObject({
      reason: "Invalid",
      message: 'Pod "noimage" is invalid: spec.containers[0].image: Required value',
      details: {
        name: "noimage",
        kind: "Pod",
        causes: [
          { reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" },
        ],
      },
    });
  });

  it("answers an uppercase name with 422 on metadata.name", async () => {
    const failure = await failureOf(create(makePod({ name: "Web" })));
    expect(failure.code).toBe(422);
    expect(failure.status?.details?.causes).toEqual([
      expect.objectContaining({ reason: "FieldValueInvalid", field: "metadata.name" }),
    ]);
    expect(failure.status?.message).toContain('Invalid value: "Web": a lowercase RFC 1123 subdomain');
  });

  it("aggregates several problems in one 422", async () => {
    const body = {
      metadata: { name: "multi" },
      spec: { containers: [{ name: "A", image: "x" }, { name: "b" }] },
    };
    const failure = await failureOf(create(body));
    expect(failure.status?.details?.causes?.map((c) => c.field)).toEqual([
      "spec.containers[0].name",
      "spec.containers[1].image",
    ]);
    expect(failure.status?.message).toMatch(
      /^Pod "multi" is invalid: \[spec\.containers\[0\]\.name: .*, spec\.containers\[1\]\.image: Required value\]$/,
    );
  });

  it("answers an undecodable quantity with 400, as the apiserver's decoder does", async () => {
    const failure = await failureOf(create(makePod({ name: "q", requests: { cpu: "lots" } })));
    expect(failure.code).toBe(400);
    expect(failure.status?.message).toContain('Pod in version "v1" cannot be handled as a Pod');
  });

  it("validates but stores nothing with dryRun=All", async () => {
    const pod = await fake.core.createNamespacedPod({
      namespace: "default",
      body: makePod({ name: "dry" }) as V1Pod,
      dryRun: "All",
    });
    expect(pod.metadata?.uid).toBeDefined();
    expect(fake.api.getPod("default", "dry")).toBeUndefined();
  });

  it("answers a missing namespace with 404", async () => {
    const failure = await failureOf(create(makePod({ name: "x", namespace: "nope" }), "nope"));
    expect(failure).toMatchObject({ code: 404, status: { message: 'namespaces "nope" not found' } });
  });
});

describe("read and delete", () => {
  it("gets, lists across namespaces and deletes, returning the deleted pod", async () => {
    await create(makePod({ name: "a" }));
    await create(makePod({ name: "b", namespace: "kube-system" }), "kube-system");
    expect((await fake.core.readNamespacedPod({ name: "a", namespace: "default" })).metadata?.name).toBe("a");
    const all = await fake.core.listPodForAllNamespaces();
    expect(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual([
      "default/a",
      "kube-system/b",
    ]);
    expect(Number(all.metadata?.resourceVersion)).toBe(Number(fake.api.resourceVersion));
    const deleted = await fake.core.deleteNamespacedPod({ name: "a", namespace: "default" });
    expect(deleted.metadata?.name).toBe("a");
    const failure = await failureOf(fake.core.readNamespacedPod({ name: "a", namespace: "default" }));
    expect(failure).toMatchObject({
      code: 404,
      status: { reason: "NotFound", message: 'pods "a" not found' },
    });
  });

  it("filters with label and field selectors", async () => {
    await create(makePod({ name: "web-1", labels: { app: "web" } }));
    await create(makePod({ name: "web-2", labels: { app: "web" }, nodeName: "n1" }));
    await create(makePod({ name: "db", labels: { app: "db" }, schedulerName: "k3s-fleet" }));
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await fake.core.listNamespacedPod({ namespace: "default", labelSelector, fieldSelector })).items.map(
        (p) => p.metadata?.name,
      );
    expect(await names("app=web")).toEqual(["web-1", "web-2"]);
    expect(await names("app in (db),!missing")).toEqual(["db"]);
    expect(await names(undefined, "spec.nodeName=")).toEqual(["db", "web-1"]);
    expect(await names(undefined, "spec.schedulerName=k3s-fleet,status.phase=Pending")).toEqual(["db"]);
    expect(await names("app=web", "spec.nodeName!=")).toEqual(["web-2"]);
    const failure = await failureOf(
      fake.core.listNamespacedPod({ namespace: "default", fieldSelector: "spec.image=x" }),
    );
    expect(failure).toMatchObject({
      code: 400,
      status: { message: "field label not supported: spec.image" },
    });
  });

  it("pages with limit and continue", async () => {
    for (const name of ["p1", "p2", "p3"]) await create(makePod({ name }));
    const first = await fake.core.listNamespacedPod({ namespace: "default", limit: 2 });
    expect(first.items.map((p) => p.metadata?.name)).toEqual(["p1", "p2"]);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await fake.core.listNamespacedPod({
      namespace: "default",
      limit: 2,
      _continue: first.metadata?._continue,
    });
    expect(second.items.map((p) => p.metadata?.name)).toEqual(["p3"]);
    expect(second.metadata?._continue).toBeUndefined();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
  });
});

describe("update", () => {
  it("lets labels change but not the spec (ValidatePodUpdate)", async () => {
    const pod = await create(makePod({ name: "u" }));
    pod.metadata = { ...pod.metadata, labels: { tier: "x" } };
    const relabelled = await fake.core.replaceNamespacedPod({ name: "u", namespace: "default", body: pod });
    expect(relabelled.metadata?.labels).toEqual({ tier: "x" });
    relabelled.spec = { ...relabelled.spec, nodeName: "n1", containers: relabelled.spec?.containers ?? [] };
    const failure = await failureOf(
      fake.core.replaceNamespacedPod({ name: "u", namespace: "default", body: relabelled }),
    );
    expect(failure.code).toBe(422);
    expect(failure.status?.message).toContain(
      "spec: Forbidden: pod updates may not change fields other than",
    );
  });

  it("rejects a stale resourceVersion with 409 Conflict", async () => {
    const pod = await create(makePod({ name: "c" }));
    await fake.core.replaceNamespacedPod({
      name: "c",
      namespace: "default",
      body: { ...pod, metadata: { ...pod.metadata, labels: { a: "1" } } },
    });
    const failure = await failureOf(
      fake.core.replaceNamespacedPod({ name: "c", namespace: "default", body: pod }),
    );
    expect(failure.status).toMatchObject({
      code: 409,
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on pods "c": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it("updates status only through the status subresource", async () => {
    const pod = await create(makePod({ name: "s" }));
    pod.status = { phase: "Running" };
    const viaMain = await fake.core.replaceNamespacedPod({ name: "s", namespace: "default", body: pod });
    expect(viaMain.status?.phase).toBe("Pending");
    const viaStatus = await fake.core.replaceNamespacedPodStatus({
      name: "s",
      namespace: "default",
      body: {
        ...viaMain,
        status: { phase: "Running" },
        spec: { ...viaMain.spec, nodeName: "ignored", containers: viaMain.spec?.containers ?? [] },
      },
    });
    expect(viaStatus.status?.phase).toBe("Running");
    expect(viaStatus.spec?.nodeName).toBeUndefined();
  });

  it("does not bump the resourceVersion for a no-op update", async () => {
    const pod = await create(makePod({ name: "same" }));
    const again = await fake.core.replaceNamespacedPod({ name: "same", namespace: "default", body: pod });
    expect(again.metadata?.resourceVersion).toBe(pod.metadata?.resourceVersion);
  });
});

describe("test API", () => {
  it("moves a pod through phases as its kubelet would report them", async () => {
    fake.api.addPod(makePod({ name: "k", nodeName: "n1" }));
    fake.api.setPodPhase("default", "k", "Running");
    const pod = await fake.core.readNamespacedPod({ name: "k", namespace: "default" });
    expect(pod.status?.phase).toBe("Running");
    expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
  });
});
