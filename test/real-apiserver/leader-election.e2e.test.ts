// Leader election against a real kube-apiserver, as the coordinator's ServiceAccount (deploy/k3s RBAC): the
// Lease is created, renewed and guarded by resourceVersion exactly as the elector expects (409 on a stale
// write), RBAC lets the coordinator touch its one Lease and no other, and two electors on real timers hand
// leadership over when the leader stops.
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../../common/timers.ts";
import { createElector, LeaseConflictError, type LeaseRecord } from "../../coordinator/leader/elector.ts";
import { createKubeLeaseClient } from "../../coordinator/leader/lease-client.ts";
import { trackRefusal } from "../../coordinator/leader/refusal.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import { until } from "../support/until.ts";
import { type RealCluster, startRealCluster } from "./cluster.ts";

const available = realApiServerAvailable();
const logger = pino({ level: "silent" });
const NAMESPACE = "k3s-fleet";
const LEASE = "k3s-fleet-coordinator";

let cluster: RealCluster;
let kc: KubeConfig;

beforeAll(async () => {
  if (!available) return;
  cluster = await startRealCluster();
  kc = new KubeConfig();
  kc.loadFromFile(cluster.coordinatorKubeconfig);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const record = (holder: string, at: number): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTimeMs: at,
  renewTimeMs: at,
  leaseTransitions: 0,
});

describe.skipIf(!available)("leader election on a real API server, as the coordinator", () => {
  it("creates, renews and loses a stale write with 409, on its one Lease only", async () => {
    const errors: string[] = [];
    const client = createKubeLeaseClient({
      kc,
      namespace: NAMESPACE,
      name: LEASE,
      onError: (operation, code) => errors.push(`${operation} ${code}`),
    });
    expect(await client.get()).toBeUndefined();
    const at = Date.now();
    const created = await client.create(record("replica-a", at));
    expect(created.record.holderIdentity).toBe("replica-a");
    // MicroTime keeps microseconds: the times come back as written.
    expect(created.record.renewTimeMs).toBe(at);
    await expect(client.create(record("replica-b", at))).rejects.toBeInstanceOf(LeaseConflictError);
    const renewed = await client.update(record("replica-a", at + 2_000), created.resourceVersion);
    expect(renewed.resourceVersion).not.toBe(created.resourceVersion);
    await expect(
      client.update(record("replica-b", at + 3_000), created.resourceVersion),
    ).rejects.toBeInstanceOf(LeaseConflictError);
    expect(errors).toEqual([]);

    // Least privilege: another Lease name is forbidden (RBAC names the one Lease for get and update).
    const other = createKubeLeaseClient({
      kc,
      namespace: NAMESPACE,
      name: "someone-elses-lease",
      onError: (operation, code) => errors.push(`${operation} ${code}`),
    });
    await expect(other.get()).rejects.toThrow(/403|forbidden/i);
    expect(errors).toEqual(["read_lease 403"]);
  });

  it("a Lease namespace outside the Role is refused (403), and the refusal is what readiness reports", async () => {
    const tracked = trackRefusal(createKubeLeaseClient({ kc, namespace: "default", name: LEASE }));
    await expect(tracked.client.get()).rejects.toThrow(/forbidden/i);
    expect(tracked.refused()).toContain(
      'cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "default"',
    );
  });

  it("two electors on real timers: one leads, and the other takes over when it stops", async () => {
    const admin = cluster.api.kubeConfig();
    const name = "k3s-fleet-coordinator-handover";
    // The coordinator's Role names only its own Lease: this test's Lease is the admin's.
    const leading = new Set<string>();
    const electors = ["replica-a", "replica-b"].map((identity) =>
      createElector({
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 300,
        client: createKubeLeaseClient({ kc: admin, namespace: NAMESPACE, name }),
        identity,
        logger,
        timers: REAL_TIMERS,
        now: Date.now,
        monotonic: () => performance.now(),
        onStartedLeading: () => leading.add(identity),
        onStoppedLeading: () => leading.delete(identity),
      }),
    );
    await Promise.all(electors.map((e) => e.start()));
    await until(() => leading.size === 1, 10_000, "one leader");
    const first = [...leading][0];
    const leader = electors.find((e) => e.isLeader);
    await leader?.stop();
    await until(() => leading.size === 1 && !leading.has(first ?? ""), 5_000, "the other replica leading");
    for (const e of electors) await e.stop();
  });
});
