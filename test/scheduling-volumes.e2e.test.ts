// VolumeBinding end to end: the coordinator (real client-node, embedded broker) against the fake API
// server's PersistentVolumeClaims, PersistentVolumes and StorageClasses. A StatefulSet-like set of pods
// with WaitForFirstConsumer (local-path) claims ends with every claim annotated with the node its pod was
// bound to; a claim bound to a local volume pins its pod to that volume's node; a pre-provisioned volume
// chosen for a claim gets its claimRef before the pod is bound; an unbound Immediate claim leaves the pod
// unschedulable with kube-scheduler's reason; a generic ephemeral volume waits for its pod-owned claim;
// a claim that cannot be annotated (409) keeps the pod unbound until a later attempt succeeds.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CoordinatorService } from "../coordinator/service.ts";
import { topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./fake-apiserver/index.ts";
import { startClusterService } from "./support/cluster-service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: process.env.DEBUG_VOL ? "debug" : "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";
const SELECTED = "volume.kubernetes.io/selected-node";

let api: FakeApiServer;
let service: CoordinatorService | undefined;
let dir: string;

async function start(): Promise<CoordinatorService> {
  service = await startClusterService({
    kubeconfigPath: api.kubeconfigPath,
    topicRoot: topics.root,
    logger,
    storeDir: dir,
  });
  return service;
}

/** K3s's default class. */
const LOCAL_PATH = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
  provisioner: "rancher.io/local-path",
  volumeBindingMode: "WaitForFirstConsumer",
  reclaimPolicy: "Delete",
};

const claim = (name: string, storageClassName = "local-path", extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default" },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "1Gi" } },
    storageClassName,
    ...extra,
  },
});

/** A pending pod of ours mounting `claimName`. */
function podWithClaim(name: string, claimName: string, labels: Record<string, string> = {}) {
  const pod = makePod({ name, schedulerName: SCHEDULER, labels, requests: { cpu: "100m", memory: "64Mi" } });
  return {
    ...pod,
    spec: { ...pod.spec, volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] },
  };
}

const nodeOf = (name: string): string | undefined =>
  (api.getPod("default", name)?.spec as { nodeName?: string } | undefined)?.nodeName;
const annotationsOf = (name: string): Record<string, string> =>
  (api.getClaim("default", name)?.metadata as { annotations?: Record<string, string> } | undefined)
    ?.annotations ?? {};
const scheduledCondition = (name: string) =>
  (
    (api.getPod("default", name)?.status as { conditions?: Array<Record<string, string>> } | undefined)
      ?.conditions ?? []
  ).find((c) => c.type === "PodScheduled");

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-volumes-"));
  api = await startFakeApiServer();
  for (const name of ["node-a", "node-b", "node-c"])
    api.addNode(makeNode({ name, cpu: "4", memory: "8Gi", labels: { "kubernetes.io/hostname": name } }));
  api.addStorageClass(LOCAL_PATH);
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe("VolumeBinding against the API server", () => {
  it("StatefulSet-like pods with WaitForFirstConsumer claims: each claim gets its pod's node before the pod is bound", async () => {
    await start();
    const spread = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    };
    for (let i = 0; i < 3; i++) {
      api.addClaim(claim(`data-db-${i}`));
      const pod = podWithClaim(`db-${i}`, `data-db-${i}`, { app: "db" });
      api.addPod({ ...pod, spec: { ...pod.spec, affinity: spread } });
    }
    const nodes = await until(
      () => {
        const all = [0, 1, 2].map((i) => nodeOf(`db-${i}`));
        return all.every((n) => n !== undefined) && (all as string[]);
      },
      10_000,
      "all three bound",
    );
    expect(new Set(nodes).size).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(annotationsOf(`data-db-${i}`)[SELECTED]).toBe(nodes[i]);
      // Nothing else of the claim changed: still Pending for the provisioner.
      expect((api.getClaim("default", `data-db-${i}`)?.status as { phase?: string } | undefined)?.phase).toBe(
        "Pending",
      );
    }
    // PreBind before Bind: one global resourceVersion counter orders the writes; each claim's annotation
    // (its last write) comes before its pod's binding (the pod's last write).
    const rv = (o: { metadata: { resourceVersion?: string } } | undefined) =>
      Number(o?.metadata.resourceVersion);
    for (let i = 0; i < 3; i++)
      expect(rv(api.getClaim("default", `data-db-${i}`))).toBeLessThan(rv(api.getPod("default", `db-${i}`)));
  }, 20_000);

  it("a claim bound to a local volume on node-c puts its pod on node-c", async () => {
    // node-a and node-b are emptier than node-c: without the volume the pod would not go to node-c.
    api.addPod(makePod({ name: "busy", nodeName: "node-c", requests: { cpu: "3", memory: "6Gi" } }));
    api.addVolume({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "local-c" },
      spec: {
        capacity: { storage: "10Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "local-path",
        local: { path: "/data" },
        claimRef: { namespace: "default", name: "pinned" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-c"] }] },
            ],
          },
        },
      },
    });
    api.addClaim(claim("pinned", "local-path", { volumeName: "local-c" }));
    api.updateClaim("default", "pinned", (c) => {
      c.metadata.annotations = { "pv.kubernetes.io/bind-completed": "yes" };
      c.status = { phase: "Bound" };
    });
    await start();
    api.addPod(podWithClaim("uses-local", "pinned"));
    expect(await until(() => nodeOf("uses-local"), 5000, "bound")).toBe("node-c");
    // A bound claim is not written to.
    expect(
      api.requests().some((r) => r.method === "PATCH" && r.path.includes("persistentvolumeclaims")),
    ).toBe(false);
  });

  it("an Available pre-provisioned volume is chosen for an unbound claim: claimRef first, then the pod on its node", async () => {
    api.addVolume({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "disk-b" },
      spec: {
        capacity: { storage: "5Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName: "manual",
        local: { path: "/mnt/disk" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["node-b"] }] },
            ],
          },
        },
      },
    });
    api.updateVolume("disk-b", (pv) => {
      pv.status = { phase: "Available" };
    });
    api.addStorageClass({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "manual" },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    const stored = api.addClaim(claim("wants-disk", "manual"));
    await start();
    api.addPod(podWithClaim("static", "wants-disk"));
    expect(await until(() => nodeOf("static"), 5000, "bound")).toBe("node-b");
    const pv = api.getVolume("disk-b") as unknown as {
      metadata: { annotations?: Record<string, string> };
      spec: { claimRef?: Record<string, string> };
    };
    expect(pv.spec.claimRef).toMatchObject({
      kind: "PersistentVolumeClaim",
      namespace: "default",
      name: "wants-disk",
      uid: stored.metadata.uid,
    });
    expect(pv.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"]).toBe("yes");
  });

  it("an unbound Immediate claim: unschedulable, with kube-scheduler's reason in PodScheduled=False", async () => {
    api.addStorageClass({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "nfs" },
      provisioner: "example.com/nfs",
    });
    api.addClaim(claim("now", "nfs"));
    await start();
    api.addPod(podWithClaim("waits", "now"));
    const condition = await until(
      () => scheduledCondition("waits")?.status === "False" && scheduledCondition("waits"),
    );
    expect(condition).toMatchObject({
      reason: "Unschedulable",
      message:
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    });
    expect(nodeOf("waits")).toBeUndefined();
  });

  it('a missing claim: unschedulable with `persistentvolumeclaim "X" not found`, bound once the claim appears', async () => {
    await start();
    api.addPod(podWithClaim("early", "late-claim"));
    const condition = await until(
      () => scheduledCondition("early")?.status === "False" && scheduledCondition("early"),
    );
    expect(condition?.message).toBe(
      '0/3 nodes are available: persistentvolumeclaim "late-claim" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    api.addClaim(claim("late-claim"));
    const node = await until(() => nodeOf("early"), 5000, "bound after the claim appeared");
    expect(annotationsOf("late-claim")[SELECTED]).toBe(node);
  });

  it("a generic ephemeral volume: waits for the claim <pod>-<volume> owned by the pod, then annotates it", async () => {
    await start();
    const base = makePod({ name: "scratchy", schedulerName: SCHEDULER, requests: { cpu: "100m" } });
    const created = api.addPod({
      ...base,
      spec: {
        ...base.spec,
        volumes: [
          {
            name: "scratch",
            ephemeral: {
              volumeClaimTemplate: {
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  storageClassName: "local-path",
                  resources: { requests: { storage: "1Gi" } },
                },
              },
            },
          },
        ],
      },
    });
    const waiting = await until(
      () => scheduledCondition("scratchy")?.status === "False" && scheduledCondition("scratchy"),
    );
    expect(waiting?.message).toBe(
      '0/3 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim "scratchy-scratch". preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
    // What the ephemeral volume controller creates: the claim, controlled by the pod.
    api.addClaim({
      ...claim("scratchy-scratch"),
      metadata: {
        name: "scratchy-scratch",
        namespace: "default",
        ownerReferences: [
          {
            apiVersion: "v1",
            kind: "Pod",
            name: "scratchy",
            uid: created.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
    });
    const node = await until(() => nodeOf("scratchy"), 5000, "bound once its claim exists");
    expect(annotationsOf("scratchy-scratch")[SELECTED]).toBe(node);
  });

  it("without access to claims (an older RBAC): pods without claims are scheduled, pods with claims wait", async () => {
    api.addClaim(claim("later"));
    // The claim list is refused as the API server refuses a ServiceAccount without the grant.
    api.faults.failNext({ method: "GET", pathPattern: "/persistentvolumeclaims", status: 403, count: 1_000 });
    await start();
    api.addPod(podWithClaim("needs-claim", "later"));
    api.addPod(makePod({ name: "plain", schedulerName: SCHEDULER, requests: { cpu: "100m" } }));
    await until(() => nodeOf("plain"), 5000, "the pod without claims bound");
    await new Promise((r) => setTimeout(r, 300));
    expect(nodeOf("needs-claim")).toBeUndefined();
    // Waiting is not a verdict: no "not found" is told while the claims are unknown.
    const told = (api.events("default") as unknown as Array<{ involvedObject?: { name?: string } }>).filter(
      (e) => e.involvedObject?.name === "needs-claim",
    );
    expect(told).toEqual([]);
    api.faults.reset();
    const node = await until(() => nodeOf("needs-claim"), 20_000, "bound once claims are listed");
    expect(annotationsOf("later")[SELECTED]).toBe(node);
  }, 30_000);

  it("a claim that cannot be annotated (409) leaves the pod unbound; the next attempt annotates and binds", async () => {
    api.addClaim(claim("contested"));
    await start();
    api.faults.failNext({ method: "PATCH", pathPattern: "/persistentvolumeclaims/contested", status: 409 });
    api.addPod(podWithClaim("retried", "contested"));
    const node = await until(() => nodeOf("retried"), 5000, "bound on retry");
    expect(annotationsOf("contested")[SELECTED]).toBe(node);
    const requests = api.requests();
    const patches = requests.filter(
      (r) => r.method === "PATCH" && r.path.endsWith("/persistentvolumeclaims/contested"),
    );
    expect(patches.map((r) => r.status)).toEqual([409, 200]);
    // The failure was told on the pod, in kube-scheduler's words.
    const failed = (
      api.events("default") as unknown as Array<{
        reason?: string;
        message?: string;
        involvedObject?: { name?: string };
      }>
    ).find((e) => e.involvedObject?.name === "retried" && e.reason === "FailedScheduling");
    expect(failed?.message).toMatch(
      /^running PreBind plugin "VolumeBinding": annotate claim default\/contested with selected-node node-[abc]: Operation cannot be fulfilled/,
    );
    // No Binding was attempted between the failed PATCH and the successful one.
    const failedAt = requests.indexOf(patches[0] as (typeof requests)[number]);
    const okAt = requests.indexOf(patches[1] as (typeof requests)[number]);
    expect(
      requests.slice(failedAt, okAt).some((r) => r.method === "POST" && r.path.endsWith("/bindings")),
    ).toBe(false);
  });
});
