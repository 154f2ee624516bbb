// RBAC for real: deploy/k3s's ServiceAccount, ClusterRole and ClusterRoleBinding applied to a real
// kube-apiserver (Node,RBAC authorization), the coordinator run with that ServiceAccount's token (TokenRequest
// API) doing everything it does (informers, binding pending pods and annotating their claims or binding their
// pre-provisioned volumes, Events, creating pods for MQTT requests, reading a pod that exists, preempting a
// lower-priority pod, polling metrics.k8s.io), and the API server's audit log compared with what the
// role grants (SelfSubjectRulesReview, and `kubectl auth can-i --list` as a person would check it): every
// request was allowed, and every grant was used.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthorizationV1Api, KubeConfig, StorageV1Api } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { DecisionStatus, topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import { connectRequester, scheduleRequest } from "../support/placement.ts";
import {
  addNode,
  addPod,
  COORDINATOR_USER,
  coordinatorRequests,
  eventsFor,
  eventually,
  nodeOf,
  type RealCluster,
  startCoordinatorOn,
  startRealCluster,
} from "./cluster.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const available = realApiServerAvailable();

/** Rules every authenticated user has (system:basic-user, system:discovery...): not the project's grants. */
const EVERYONE = new Set(["authorization.k8s.io", "authentication.k8s.io"]);
/**
 * Granted for a cluster with metrics-server, not exercisable here: the poller lists pod metrics only after
 * node metrics answered, and without metrics-server the node list is a 404 (which is in the audit log).
 */
const NEEDS_METRICS_SERVER = new Set(["metrics.k8s.io/pods:list"]);
const grant = (group: string, resource: string, verb: string) => `${group || "core"}/${resource}:${verb}`;

describe.skipIf(!available)("the coordinator's RBAC on a real kube-apiserver", () => {
  let cluster: RealCluster;
  let service: CoordinatorService;
  let dir: string;

  beforeAll(async () => {
    cluster = await startRealCluster();
    dir = await mkdtemp(join(tmpdir(), "k3s-fleet-rbac-"));
    await addNode(cluster.core, { name: "node-a", cpu: "4", memory: "8Gi" });
    service = await startCoordinatorOn(cluster, {
      topicRoot: topics.root,
      logger,
      storeDir: dir,
      metricsIntervalMs: 200,
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("does all its work as the ServiceAccount: no request is refused", async () => {
    const { core } = cluster;
    // Secondary scheduler: a pod it binds (Scheduled) and one it cannot place (FailedScheduling).
    await addPod(core, makePod({ name: "fits", schedulerName: "k3s-fleet", requests: { cpu: "100m" } }));
    await addPod(core, makePod({ name: "too-big", schedulerName: "k3s-fleet", requests: { cpu: "64" } }));
    expect(await eventually(() => nodeOf(core, "fits"), 15_000, "fits bound")).toBe("node-a");
    await eventually(async () => (await eventsFor(core, "too-big", "FailedScheduling")).length > 0);
    // VolumeBinding: a claim to provision (patched with selected-node) and one matched to a pre-provisioned
    // volume (the volume patched with its claimRef).
    const storage = cluster.api.kubeConfig().makeApiClient(StorageV1Api);
    for (const [name, provisioner] of [
      ["local-path", "rancher.io/local-path"],
      ["manual", "kubernetes.io/no-provisioner"],
    ] as const)
      await storage.createStorageClass({
        body: { metadata: { name }, provisioner, volumeBindingMode: "WaitForFirstConsumer" },
      });
    const pv = await core.createPersistentVolume({
      body: {
        metadata: { name: "rbac-disk" },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          storageClassName: "manual",
          hostPath: { path: "/tmp/rbac-disk" },
        },
      },
    });
    await core.replacePersistentVolumeStatus({
      name: "rbac-disk",
      body: { ...pv, status: { phase: "Available" } },
    });
    for (const [pod, claim, cls] of [
      ["with-claim", "rbac-data", "local-path"],
      ["with-volume", "rbac-static", "manual"],
    ] as const) {
      await core.createNamespacedPersistentVolumeClaim({
        namespace: "default",
        body: {
          metadata: { name: claim },
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "1Gi" } },
            storageClassName: cls,
          },
        },
      });
      const p = makePod({ name: pod, schedulerName: "k3s-fleet", requests: { cpu: "100m" } });
      await addPod(core, {
        ...p,
        spec: { ...p.spec, volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }] },
      });
      expect(await eventually(() => nodeOf(core, pod), 15_000, `${pod} bound`)).toBe("node-a");
    }
    // MQTT requests: one creates and binds a pod; one names a pod that exists (create 409, then a read).
    await addPod(core, makePod({ name: "taken", nodeName: "node-a" }));
    const client = await connectRequester(service.broker?.url ?? "", topics.root);
    const created = await client.request(
      scheduleRequest(topics.root, client.clientId, { podName: "via-mqtt" }),
      30_000,
    );
    expect(created.status).toBe(DecisionStatus.SCHEDULED);
    const refused = await client.request(
      scheduleRequest(topics.root, client.clientId, { podName: "taken" }),
      30_000,
    );
    expect(refused.status).toBe(DecisionStatus.REJECTED);
    await client.close();
    // Preemption: a high-priority pod that fits only if the low-priority pod filling node-a goes (the
    // PodDisruptionBudgets are listed, the victim gets DisruptionTarget and is deleted).
    await cluster.kubectl("create", "priorityclass", "rbac-high", "--value=1000");
    await addPod(core, makePod({ name: "filler", nodeName: "node-a", requests: { cpu: "3" } }));
    await addPod(
      core,
      makePod({
        name: "vip",
        schedulerName: "k3s-fleet",
        priorityClassName: "rbac-high",
        requests: { cpu: "1" },
      }),
    );
    await eventually(
      async () => (await eventsFor(core, "filler", "Preempted")).length > 0,
      15_000,
      "a preemption",
    );
    // metrics.k8s.io is polled (and absent here: 404 after authorization, not 403).
    await eventually(async () =>
      coordinatorRequests(cluster.api).some((r) => r.objectRef?.apiGroup === "metrics.k8s.io"),
    );

    const refusedByRbac = coordinatorRequests(cluster.api).filter((r) => r.responseStatus?.code === 403);
    expect(refusedByRbac.map((r) => `${r.verb} ${r.requestURI}`)).toEqual([]);
  }, 90_000);

  it("is granted exactly what it used (SelfSubjectRulesReview vs. the audit log)", async () => {
    const used = new Set(
      coordinatorRequests(cluster.api)
        .filter((r) => r.objectRef?.resource !== undefined)
        .map((r) => {
          const o = r.objectRef ?? {};
          const resource = o.subresource ? `${o.resource}/${o.subresource}` : (o.resource ?? "");
          return grant(o.apiGroup ?? "", resource, r.verb);
        }),
    );
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.coordinatorKubeconfig);
    const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({
      body: { spec: { namespace: "default" } },
    });
    expect(review.status?.incomplete).toBe(false);
    const granted = new Set(
      (review.status?.resourceRules ?? []).flatMap((rule) =>
        (rule.apiGroups ?? []).flatMap((group) =>
          EVERYONE.has(group)
            ? []
            : (rule.resources ?? []).flatMap((resource) =>
                rule.verbs.map((verb) => grant(group, resource, verb)),
              ),
        ),
      ),
    );
    expect([...used].filter((g) => !granted.has(g)).sort(), "used but not granted").toEqual([]);
    expect(
      [...granted].filter((g) => !used.has(g) && !NEEDS_METRICS_SERVER.has(g)).sort(),
      "granted but never used",
    ).toEqual([]);
    expect(review.status?.resourceRules.some((r) => r.verbs.includes("*"))).toBe(false);
    expect(COORDINATOR_USER).toBe("system:serviceaccount:k3s-fleet:k3s-fleet-coordinator");
  });

  it("`kubectl auth can-i --list` as the ServiceAccount shows the same rules", async () => {
    const { stdout } = await cluster.kubectlAs(
      cluster.coordinatorKubeconfig,
      "auth",
      "can-i",
      "--list",
      "--namespace=default",
    );
    const rows = stdout.split("\n").map((l) => l.trim().split(/\s{2,}/));
    const verbsOf = (resource: string) =>
      rows
        .find((r) => r[0] === resource)
        ?.at(-1)
        ?.replace(/[[\]]/g, "")
        .split(" ")
        .sort()
        .join(" ");
    expect(verbsOf("bindings")).toBe("create");
    expect(verbsOf("pods")).toBe("create delete get list watch");
    expect(verbsOf("poddisruptionbudgets.policy")).toBe("list");
    expect(verbsOf("nodes")).toBe("list watch");
    expect(verbsOf("persistentvolumeclaims")).toBe("list patch watch");
    expect(verbsOf("persistentvolumes")).toBe("list patch watch");
    expect(verbsOf("storageclasses.storage.k8s.io")).toBe("list watch");
    expect(verbsOf("events.events.k8s.io")).toBe("create");
    expect(verbsOf("nodes.metrics.k8s.io")).toBe("list");
    expect(verbsOf("pods.metrics.k8s.io")).toBe("list");
    expect(stdout).not.toMatch(/secrets|\[\*\]/);
  });
});
