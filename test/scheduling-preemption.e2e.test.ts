// DefaultPreemption end to end: the coordinator against the fake API server (real client-node, HTTPS,
// list/watch) with a cluster full of low-priority pods. A high-priority pending pod with our
// schedulerName preempts: the victims chosen by kube-scheduler's rules (here: the node whose victims
// violate no PodDisruptionBudget) get a DisruptionTarget condition and are deleted, each with a
// `Preempted` Event, the preemptor's status.nominatedNodeName is set, and it is bound there once the
// victims are gone. A pod with preemptionPolicy Never preempts nothing and says why.
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

const logger = pino({ level: "silent" });
const topics = topicsFor();
const SCHEDULER = "k3s-fleet";

let api: FakeApiServer;
let service: CoordinatorService | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-preempt-"));
  api = await startFakeApiServer();
});

afterEach(async () => {
  await service?.stop();
  service = undefined;
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<void> {
  service = await startClusterService({
    kubeconfigPath: api.kubeconfigPath,
    topicRoot: topics.root,
    logger,
    storeDir: dir,
  });
}

/** A running pod of `priority` on `node`, started at `startedAt`. */
function running(name: string, node: string, priority: number, startedAt: string, app: string): void {
  const pod = makePod({ name, nodeName: node, labels: { app }, requests: { cpu: "1", memory: "256Mi" } });
  api.addPod({ ...pod, spec: { ...pod.spec, priority } });
  api.setPodPhase("default", name, "Running");
  api.updatePod("default", name, (p) => {
    (p.status as { startTime: string }).startTime = startedAt;
  });
}

/** Two 2-cpu nodes, each full with two 1-cpu pods of priority 10; node-b's started later. */
function fullCluster(): void {
  api.addNode(makeNode({ name: "node-a", cpu: "2", memory: "8Gi" }));
  api.addNode(makeNode({ name: "node-b", cpu: "2", memory: "8Gi" }));
  running("low-a1", "node-a", 10, "2026-12-01T00:00:00Z", "a");
  running("low-a2", "node-a", 10, "2026-12-01T00:00:00Z", "a");
  running("low-b1", "node-b", 10, "2026-12-06T00:00:00Z", "b");
  running("low-b2", "node-b", 10, "2026-12-06T00:00:00Z", "b");
}

function pending(name: string, priority: number, extra: Record<string, unknown> = {}) {
  const pod = makePod({ name, schedulerName: SCHEDULER, requests: { cpu: "2", memory: "256Mi" } });
  return api.addPod({ ...pod, spec: { ...pod.spec, priority, ...extra } });
}

interface EventLike {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { name?: string; uid?: string };
}
const eventsFor = (pod: string, reason: string): EventLike[] =>
  (api.events("default") as unknown as EventLike[]).filter(
    (e) => e.involvedObject?.name === pod && e.reason === reason,
  );
const podNames = () => api.listPods("default").map((p) => p.metadata.name);

describe("DefaultPreemption", () => {
  it("evicts the victims on the node kube-scheduler's rules pick, nominates the pod, and binds it there", async () => {
    fullCluster();
    // node-b's victims started later (preferred, all else equal), but evicting them violates this budget.
    api.addPdb(
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "default" },
        spec: { minAvailable: 2, selector: { matchLabels: { app: "b" } } },
      },
      { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
    );
    await start();
    const vip = pending("vip", 1000);
    const uid = vip.metadata.uid;

    const bound = await until(
      () => (api.getPod("default", "vip")?.spec as { nodeName?: string } | undefined)?.nodeName,
      10_000,
      "vip bound",
    );
    expect(bound).toBe("node-a");
    expect(podNames().sort()).toEqual(["low-b1", "low-b2", "vip"]);
    const status = api.getPod("default", "vip")?.status as { nominatedNodeName?: string } | undefined;
    expect(status?.nominatedNodeName).toBe("node-a");
    for (const victim of ["low-a1", "low-a2"]) {
      const [event] = await until(() => {
        const list = eventsFor(victim, "Preempted");
        return list.length > 0 && list;
      });
      expect(event).toMatchObject({ type: "Normal", message: `Preempted by pod ${uid} on node node-a` });
      // The DisruptionTarget condition went to the victim's status before its deletion.
      expect(
        api
          .requests()
          .some((r) => r.method === "PATCH" && r.path === `/api/v1/namespaces/default/pods/${victim}/status`),
      ).toBe(true);
    }
    expect(eventsFor("low-b1", "Preempted")).toEqual([]);
    const [scheduled] = await until(() => {
      const list = eventsFor("vip", "Scheduled");
      return list.length > 0 && list;
    });
    expect(scheduled?.message).toBe("Successfully assigned default/vip to node-a");
  });

  it("without the budget, the node whose victims started latest is picked", async () => {
    fullCluster();
    await start();
    pending("vip", 1000);
    const bound = await until(
      () => (api.getPod("default", "vip")?.spec as { nodeName?: string } | undefined)?.nodeName,
      10_000,
      "vip bound",
    );
    expect(bound).toBe("node-b");
    expect(podNames().sort()).toEqual(["low-a1", "low-a2", "vip"]);
  });

  it("a pod with preemptionPolicy Never preempts nothing and says so in FailedScheduling", async () => {
    fullCluster();
    await start();
    pending("polite", 1000, { preemptionPolicy: "Never" });
    const [failed] = await until(() => {
      const list = eventsFor("polite", "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
    );
    await service?.scheduling?.idle();
    expect(podNames().sort()).toEqual(["low-a1", "low-a2", "low-b1", "low-b2", "polite"]);
    expect(
      (api.getPod("default", "polite")?.status as { nominatedNodeName?: string } | undefined)
        ?.nominatedNodeName,
    ).toBeUndefined();
    expect(api.requests().some((r) => r.method === "DELETE")).toBe(false);
  });

  it("a pod of equal priority finds no victims and says so", async () => {
    fullCluster();
    await start();
    pending("peer", 10);
    const [failed] = await until(() => {
      const list = eventsFor("peer", "FailedScheduling");
      return list.length > 0 && list;
    });
    expect(failed?.message).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    expect(podNames()).toHaveLength(5);
    // No candidate, so the PodDisruptionBudgets were never even listed.
    expect(api.requests().some((r) => r.path.includes("poddisruptionbudgets"))).toBe(false);
  });
});
