// The fake's PersistentVolumeClaims, PersistentVolumes and StorageClasses through the real client-node:
// defaulting, validation messages and field names, 404s, and 409 on a stale resourceVersion for PUT and
// PATCH, as the real API server answers them.
import {
  CoreV1Api,
  PatchStrategy,
  StorageV1Api,
  setHeaderOptions,
  type V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, startFakeApiServer } from "./index.ts";

let api: FakeApiServer;
let core: CoreV1Api;
let storage: StorageV1Api;
const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const claim = (name: string): V1PersistentVolumeClaim => ({
  metadata: { name },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "1Gi" } },
    storageClassName: "local-path",
  },
});

beforeAll(async () => {
  api = await startFakeApiServer();
  core = api.kubeConfig().makeApiClient(CoreV1Api);
  storage = api.kubeConfig().makeApiClient(StorageV1Api);
});
afterAll(async () => {
  await api.close();
});

describe("PersistentVolumeClaims", () => {
  it("are defaulted like the API server does: Pending, Filesystem", async () => {
    const created = await core.createNamespacedPersistentVolumeClaim({
      namespace: "default",
      body: claim("data"),
    });
    expect(created.status?.phase).toBe("Pending");
    expect(created.spec?.volumeMode).toBe("Filesystem");
    const listed = await core.listPersistentVolumeClaimForAllNamespaces();
    expect(listed.items.map((c) => c.metadata?.name)).toContain("data");
  });

  it("a claim a pod uses is only marked when deleted (pvc-protection), and goes once the pod does", async () => {
    const namespace = "default";
    const created = await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim("in-use") });
    expect(created.metadata?.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "user" },
        spec: {
          containers: [{ name: "c", image: "nginx" }],
          volumes: [{ name: "d", persistentVolumeClaim: { claimName: "in-use" } }],
        },
      },
    });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "in-use" });
    const marked = await core.readNamespacedPersistentVolumeClaim({ namespace, name: "in-use" });
    expect(marked.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    await core.deleteNamespacedPod({ namespace, name: "user" });
    const gone = await failureOf(core.readNamespacedPersistentVolumeClaim({ namespace, name: "in-use" }));
    expect(gone.code).toBe(404);
    // A pod that finished no longer holds its claim.
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim("done") });
    const done = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "job" },
        spec: {
          containers: [{ name: "c", image: "nginx" }],
          volumes: [{ name: "d", persistentVolumeClaim: { claimName: "done" } }],
        },
      },
    });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "done" });
    expect((await core.readNamespacedPersistentVolumeClaim({ namespace, name: "done" })).metadata?.name).toBe(
      "done",
    );
    await core.replaceNamespacedPodStatus({
      namespace,
      name: "job",
      body: { ...done, status: { ...done.status, phase: "Succeeded" } },
    });
    expect(
      (await failureOf(core.readNamespacedPersistentVolumeClaim({ namespace, name: "done" }))).code,
    ).toBe(404);
    // An unused claim goes at once.
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim("unused") });
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "unused" });
    const unused = await failureOf(core.readNamespacedPersistentVolumeClaim({ namespace, name: "unused" }));
    expect(unused.code).toBe(404);
  });

  it("a missing claim is 404 with the resource's name", async () => {
    const failure = await failureOf(
      core.readNamespacedPersistentVolumeClaim({ namespace: "default", name: "nope" }),
    );
    expect(failure.code).toBe(404);
    expect(failure.status?.message).toBe('persistentvolumeclaims "nope" not found');
  });

  it("validation names the fields as upstream", async () => {
    const failure = await failureOf(
      core.createNamespacedPersistentVolumeClaim({
        namespace: "default",
        body: { metadata: { name: "bad" }, spec: { accessModes: [], resources: { requests: {} } } },
      }),
    );
    expect(failure.code).toBe(422);
    expect(failure.status?.details?.causes?.map((c) => c.field)).toEqual([
      "spec.accessModes",
      "spec.resources[storage]",
    ]);
    expect(failure.status?.message).toContain(
      "spec.accessModes: Required value: at least 1 access mode is required",
    );
  });

  it("annotating through a merge patch works; a stale resourceVersion is 409 Conflict (PATCH and PUT)", async () => {
    const created = await core.createNamespacedPersistentVolumeClaim({
      namespace: "default",
      body: claim("contended"),
    });
    const rv = created.metadata?.resourceVersion;
    const patched = await core.patchNamespacedPersistentVolumeClaim(
      {
        name: "contended",
        namespace: "default",
        body: {
          metadata: { resourceVersion: rv, annotations: { "volume.kubernetes.io/selected-node": "n1" } },
        },
      },
      MERGE,
    );
    expect(patched.metadata?.annotations?.["volume.kubernetes.io/selected-node"]).toBe("n1");
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(rv));
    const stalePatch = await failureOf(
      core.patchNamespacedPersistentVolumeClaim(
        {
          name: "contended",
          namespace: "default",
          body: { metadata: { resourceVersion: rv, annotations: { x: "y" } } },
        },
        MERGE,
      ),
    );
    expect(stalePatch.code).toBe(409);
    expect(stalePatch.status?.reason).toBe("Conflict");
    expect(stalePatch.status?.message).toContain(
      'Operation cannot be fulfilled on persistentvolumeclaims "contended"',
    );
    const stalePut = await failureOf(
      core.replaceNamespacedPersistentVolumeClaim({ name: "contended", namespace: "default", body: created }),
    );
    expect(stalePut.code).toBe(409);
  });

  it("the spec is immutable after creation except requests and a first volumeName", async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: "default", body: claim("fixed") });
    const failure = await failureOf(
      core.patchNamespacedPersistentVolumeClaim(
        { name: "fixed", namespace: "default", body: { spec: { storageClassName: "other" } } },
        MERGE,
      ),
    );
    expect(failure.code).toBe(422);
    expect(failure.status?.message).toContain("spec is immutable after creation except resources.requests");
    const bound = await core.patchNamespacedPersistentVolumeClaim(
      { name: "fixed", namespace: "default", body: { spec: { volumeName: "pv-1" } } },
      MERGE,
    );
    expect(bound.spec?.volumeName).toBe("pv-1");
  });
});

describe("PersistentVolumes and StorageClasses", () => {
  it("a local volume needs node affinity; a valid one is Pending with Retain", async () => {
    const body = {
      metadata: { name: "local-1" },
      spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], local: { path: "/data" } },
    };
    const failure = await failureOf(core.createPersistentVolume({ body }));
    expect(failure.code).toBe(422);
    expect(failure.status?.details?.causes?.map((c) => c.field)).toEqual(["spec.nodeAffinity"]);
    const created = await core.createPersistentVolume({
      body: {
        ...body,
        spec: {
          ...body.spec,
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] },
              ],
            },
          },
        },
      },
    });
    expect(created.status?.phase).toBe("Pending");
    expect(created.spec?.persistentVolumeReclaimPolicy).toBe("Retain");
  });

  it("storage classes default to Immediate and Delete; their binding mode cannot change", async () => {
    const created = await storage.createStorageClass({
      body: { metadata: { name: "fast" }, provisioner: "example.com/fast" },
    });
    expect(created.volumeBindingMode).toBe("Immediate");
    expect(created.reclaimPolicy).toBe("Delete");
    const failure = await failureOf(
      storage.patchStorageClass({ name: "fast", body: { volumeBindingMode: "WaitForFirstConsumer" } }, MERGE),
    );
    expect(failure.code).toBe(422);
    expect(failure.status?.message).toContain(
      "volumeBindingMode: Forbidden: updates to volumeBindingMode are forbidden.",
    );
    const missing = await failureOf(storage.readStorageClass({ name: "nope" }));
    expect(missing.status?.message).toBe('storageclasses.storage.k8s.io "nope" not found');
  });
});
