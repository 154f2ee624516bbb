// VolumeBinding against a real kube-apiserver + etcd, the coordinator as its ServiceAccount (deploy/k3s
// RBAC): a StatefulSet-like set of pods with local-path (WaitForFirstConsumer) claims ends with every claim
// annotated with the node its pod was bound to. No controller manager or provisioner runs here, so the
// claims stay Pending with the annotation — which is what a provisioner such as local-path waits for. An
// unbound Immediate claim leaves its pod unschedulable with kube-scheduler's reason.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageV1Api } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import {
  addNode,
  addPod,
  coordinatorRequests,
  eventually,
  isCall,
  nodeOf,
  type RealCluster,
  startCoordinatorOn,
  startRealCluster,
} from "./cluster.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const available = realApiServerAvailable();
const SELECTED = "volume.kubernetes.io/selected-node";

let cluster: RealCluster;
let service: CoordinatorService | undefined;
let dir: string;

const claimBody = (name: string, storageClassName: string) => ({
  metadata: { name },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName },
});

function podWithClaim(
  name: string,
  claimName: string,
  labels: Record<string, string> = {},
  affinity?: object,
) {
  const pod = makePod({
    name,
    schedulerName: "k3s-fleet",
    labels,
    requests: { cpu: "100m", memory: "64Mi" },
  });
  return {
    ...pod,
    spec: {
      ...pod.spec,
      ...(affinity ? { affinity } : {}),
      volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
    },
  };
}

describe.skipIf(!available)("VolumeBinding against a real kube-apiserver", () => {
  beforeAll(async () => {
    cluster = await startRealCluster();
    dir = await mkdtemp(join(tmpdir(), "k3s-fleet-volumes-real-"));
    for (const name of ["node-a", "node-b", "node-c"])
      await addNode(cluster.core, {
        name,
        cpu: "4",
        memory: "8Gi",
        labels: { "kubernetes.io/hostname": name },
      });
    const storage = cluster.api.kubeConfig().makeApiClient(StorageV1Api);
    await storage.createStorageClass({
      body: {
        metadata: { name: "local-path" },
        provisioner: "rancher.io/local-path",
        volumeBindingMode: "WaitForFirstConsumer",
        reclaimPolicy: "Delete",
      },
    });
    await storage.createStorageClass({ body: { metadata: { name: "nfs" }, provisioner: "example.com/nfs" } });
    service = await startCoordinatorOn(cluster, { topicRoot: topics.root, logger, storeDir: dir });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("StatefulSet-like pods: every claim annotated with its pod's node before the pod is bound", async () => {
    const { core } = cluster;
    const spread = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    };
    for (let i = 0; i < 3; i++) {
      await core.createNamespacedPersistentVolumeClaim({
        namespace: "default",
        body: claimBody(`data-db-${i}`, "local-path"),
      });
      await addPod(core, podWithClaim(`db-${i}`, `data-db-${i}`, { app: "db" }, spread));
    }
    const nodes: string[] = [];
    for (let i = 0; i < 3; i++)
      nodes.push(await eventually(() => nodeOf(core, `db-${i}`), 20_000, `db-${i} bound`));
    expect(new Set(nodes).size).toBe(3);
    for (let i = 0; i < 3; i++) {
      const claim = await core.readNamespacedPersistentVolumeClaim({
        namespace: "default",
        name: `data-db-${i}`,
      });
      expect(claim.metadata?.annotations?.[SELECTED]).toBe(nodes[i]);
      expect(claim.status?.phase).toBe("Pending");
    }
    // The audit log orders the writes: each claim's patch came before its pod's binding.
    const audit = coordinatorRequests(cluster.api);
    for (let i = 0; i < 3; i++) {
      const patched = audit.findIndex(
        (r) => isCall("patch", "persistentvolumeclaims")(r) && r.objectRef?.name === `data-db-${i}`,
      );
      const bound = audit.findIndex(
        (r) => isCall("create", "bindings")(r) && r.objectRef?.name === `db-${i}`,
      );
      expect(patched).toBeGreaterThanOrEqual(0);
      expect(bound).toBeGreaterThan(patched);
    }
  }, 60_000);

  it("an unbound Immediate claim: unschedulable with kube-scheduler's reason", async () => {
    const { core } = cluster;
    await core.createNamespacedPersistentVolumeClaim({ namespace: "default", body: claimBody("now", "nfs") });
    await addPod(core, podWithClaim("waits", "now"));
    const condition = await eventually(async () => {
      const pod = await core.readNamespacedPod({ namespace: "default", name: "waits" });
      return pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
    }, 20_000);
    expect(condition.message).toBe(
      "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  }, 30_000);
});
