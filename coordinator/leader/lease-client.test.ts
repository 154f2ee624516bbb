// The Lease client with the real client-node against the fake API server's coordination.k8s.io/v1 Leases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { LeaseConflictError, type LeaseRecord } from "./elector.ts";
import { createKubeLeaseClient } from "./lease-client.ts";

let api: FakeApiServer;
beforeAll(async () => {
  api = await startFakeApiServer();
});
afterAll(() => api.close());

const record = (holder: string, at: number): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTimeMs: at,
  renewTimeMs: at,
  leaseTransitions: 0,
});

describe("Kubernetes Lease client", () => {
  it("reads nothing, creates, renews with the resourceVersion, and refuses a stale write with a conflict", async () => {
    const errors: string[] = [];
    const client = (name = "k3s-fleet-coordinator") =>
      createKubeLeaseClient({
        kc: api.kubeConfig(),
        namespace: "default",
        name,
        onError: (op, code) => errors.push(`${op} ${code}`),
      });
    const a = client();
    const b = client();
    expect(await a.get()).toBeUndefined();
    const created = await a.create(record("a", 1_700_000_000_123));
    expect(created.record).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 15 });
    expect(created.record.renewTimeMs).toBe(1_700_000_000_123);
    await expect(b.create(record("b", 1_700_000_001_000))).rejects.toBeInstanceOf(LeaseConflictError);

    const seenByB = await b.get();
    const renewed = await a.update(record("a", 1_700_000_002_000), created.resourceVersion);
    expect(renewed.resourceVersion).not.toBe(created.resourceVersion);
    // b read before a's renewal: its write names an old resourceVersion and loses.
    await expect(
      b.update(record("b", 1_700_000_003_000), seenByB?.resourceVersion ?? ""),
    ).rejects.toBeInstanceOf(LeaseConflictError);
    expect((await b.get())?.record.holderIdentity).toBe("a");
    // Conflicts are the protocol working, not API failures.
    expect(errors).toEqual([]);
  });

  it("counts a failing API server and surfaces the error", async () => {
    const errors: string[] = [];
    const client = createKubeLeaseClient({
      kc: api.kubeConfig(),
      namespace: "default",
      name: "other",
      onError: (op, code) => errors.push(`${op} ${code}`),
    });
    api.faults.failNext({ pathPattern: "/leases/other", status: 500 });
    await expect(client.get()).rejects.toThrow(/500|Internal/);
    expect(errors).toEqual(["read_lease 500"]);
  });
});
