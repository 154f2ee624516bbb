// Lease refusals (401/403) seen through the real client-node against the fake API server's Leases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { createKubeLeaseClient } from "./lease-client.ts";
import { trackRefusal } from "./refusal.ts";

let api: FakeApiServer;
beforeAll(async () => {
  api = await startFakeApiServer();
});
afterAll(() => api.close());

const FORBIDDEN =
  'leases.coordination.k8s.io "k3s-fleet-coordinator" is forbidden: User "system:serviceaccount:k3s-fleet:k3s-fleet-coordinator" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "default"';

describe("Lease refusal", () => {
  it("is reported while the server answers 403, kept through a network failure, cleared by an answer", async () => {
    const tracked = trackRefusal(
      createKubeLeaseClient({ kc: api.kubeConfig(), namespace: "default", name: "k3s-fleet-coordinator" }),
    );
    expect(await tracked.client.get()).toBeUndefined();
    expect(tracked.refused()).toBeUndefined();

    api.faults.failNext({ pathPattern: "/leases/", status: 403, reason: "Forbidden", message: FORBIDDEN });
    await expect(tracked.client.get()).rejects.toThrow(/forbidden/);
    expect(tracked.refused()).toContain(FORBIDDEN);

    api.faults.failNext({ pathPattern: "/leases/", status: 500 });
    await expect(tracked.client.get()).rejects.toThrow();
    expect(tracked.refused()).toContain(FORBIDDEN);

    expect(await tracked.client.get()).toBeUndefined();
    expect(tracked.refused()).toBeUndefined();
  });
});
