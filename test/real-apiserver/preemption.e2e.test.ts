// DefaultPreemption against a real kube-apiserver + etcd, with kwok running the nodes' pods: priorities
// come from PriorityClasses through the real Priority admission plugin, a PodDisruptionBudget is read
// through the real policy/v1 API, victims are deleted gracefully (the apiserver sets deletionTimestamp,
// kwok finishes the deletion as a kubelet would), and the preemptor, nominated meanwhile, is bound once
// they are gone. The coordinator runs as its ServiceAccount (deploy/k3s RBAC).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PolicyV1Api } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { topicsFor } from "../../proto/index.ts";
import { makePod } from "../fake-apiserver/builders.ts";
import { KWOK_NODE_ANNOTATION } from "../support/kube-apiserver.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import {
  addNode,
  addPod,
  coordinatorRequests,
  eventsFor,
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

describe.skipIf(!available)("preemption against a real kube-apiserver", () => {
  let cluster: RealCluster;
  let service: CoordinatorService | undefined;
  let dir: string;

  beforeAll(async () => {
    cluster = await startRealCluster({ kwok: true });
    dir = await mkdtemp(join(tmpdir(), "k3s-fleet-preempt-real-"));
    await cluster.kubectl("create", "priorityclass", "low", "--value=10");
    await cluster.kubectl("create", "priorityclass", "high", "--value=1000");
    await cluster.kubectl("create", "priorityclass", "polite", "--value=1000", "--preemption-policy=Never");
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("evicts the victims kube-scheduler's rules pick, nominates the pod, and binds it once they are gone", async () => {
    const { core } = cluster;
    for (const name of ["node-a", "node-b"])
      await addNode(core, { name, cpu: "2", memory: "8Gi", annotations: KWOK_NODE_ANNOTATION });
    for (const [name, node, app] of [
      ["low-a1", "node-a", "a"],
      ["low-a2", "node-a", "a"],
      ["low-b1", "node-b", "b"],
      ["low-b2", "node-b", "b"],
    ] as const) {
      await addPod(
        core,
        makePod({ name, nodeName: node, labels: { app }, priorityClassName: "low", requests: { cpu: "1" } }),
      );
    }
    // No disruption controller runs here, so the budget's status stays empty: no disruption allowed.
    await cluster.api
      .kubeConfig()
      .makeApiClient(PolicyV1Api)
      .createNamespacedPodDisruptionBudget({
        namespace: "default",
        body: { metadata: { name: "b" }, spec: { minAvailable: 2, selector: { matchLabels: { app: "b" } } } },
      });
    await eventually(
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: "default" })).items;
        return pods.length === 4 && pods.every((p) => p.status?.phase === "Running");
      },
      30_000,
      "the low-priority pods Running",
    );

    service = await startCoordinatorOn(cluster, { topicRoot: topics.root, logger, storeDir: dir });

    // Equal priority and policy Never: FailedScheduling says why nothing was preempted.
    await addPod(
      core,
      makePod({ name: "peer", schedulerName: "k3s-fleet", priorityClassName: "low", requests: { cpu: "2" } }),
    );
    await addPod(
      core,
      makePod({
        name: "polite",
        schedulerName: "k3s-fleet",
        priorityClassName: "polite",
        requests: { cpu: "2" },
      }),
    );
    const [peer] = await eventually(async () => {
      const list = await eventsFor(core, "peer", "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(peer?.message).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    const [polite] = await eventually(async () => {
      const list = await eventsFor(core, "polite", "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(polite?.message).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
    );
    expect(coordinatorRequests(cluster.api).filter(isCall("delete", "pods"))).toEqual([]);

    const vip = await addPod(
      core,
      makePod({ name: "vip", schedulerName: "k3s-fleet", priorityClassName: "high", requests: { cpu: "2" } }),
    );
    expect(vip.spec?.priority).toBe(1000);
    const boundTo = await eventually(() => nodeOf(core, "vip"), 60_000, "vip bound");
    expect(boundTo).toBe("node-a");
    const names = (await core.listNamespacedPod({ namespace: "default" })).items.map((p) => p.metadata?.name);
    expect(names.sort()).toEqual(["low-b1", "low-b2", "peer", "polite", "vip"]);
    const deleted = coordinatorRequests(cluster.api).filter(isCall("delete", "pods"));
    expect(deleted.map((r) => r.objectRef?.name).sort()).toEqual(["low-a1", "low-a2"]);
    for (const victim of ["low-a1", "low-a2"]) {
      const [event] = await eventually(async () => {
        const list = await eventsFor(core, victim, "Preempted");
        return list.length > 0 && list;
      });
      expect(event?.message).toBe(`Preempted by pod ${vip.metadata?.uid} on node node-a`);
    }
    // status.nominatedNodeName was set before the binding; this API server clears it when it binds
    // (feature gate ClearingNominatedNodeNameAfterBinding), so the audit log is the witness.
    const calls = coordinatorRequests(cluster.api)
      .filter((r) => r.objectRef?.name === "vip")
      .map((r) => `${r.verb} ${r.objectRef?.resource}/${r.objectRef?.subresource ?? ""}`);
    const nominatedAt = calls.indexOf("patch pods/status");
    expect(nominatedAt).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf("create bindings/")).toBeGreaterThan(nominatedAt);
  }, 120_000);
});
