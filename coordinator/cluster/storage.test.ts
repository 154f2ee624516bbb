// The storage informers with the real client-node against the fake API server: the view reads claims,
// volumes and classes as the API server has them, every change is one `storage` event, and a claim
// informer that loses its watch (500) is restarted and catches up.
import { EventEmitter } from "node:events";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import type { ClusterEmitter } from "./events.ts";
import { type StorageInformers, startStorageInformers } from "./storage.ts";

let api: FakeApiServer;
let informers: StorageInformers;
const events: ClusterEmitter = new EventEmitter();
const seen: string[] = [];

const claim = (name: string) => ({
  metadata: { name, namespace: "default" },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "1Gi" } },
    storageClassName: "local-path",
  },
});

beforeAll(async () => {
  api = await startFakeApiServer();
  api.addStorageClass({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "local-path" },
    provisioner: "rancher.io/local-path",
    volumeBindingMode: "WaitForFirstConsumer",
  });
  api.addClaim(claim("first"));
  events.on("storage", (kind, type, obj) => seen.push(`${kind} ${type} ${obj?.metadata?.name ?? ""}`.trim()));
  informers = await startStorageInformers({
    kc: api.kubeConfig(),
    logger: pino({ level: "silent" }),
    events,
    backoff: { initialMs: 50, maxMs: 100 },
  });
  await informers.whenSynced();
});

afterAll(async () => {
  await informers?.stop();
  await api?.close();
});

describe("storage informers", () => {
  it("list what exists, with the API server's defaulting", () => {
    expect(informers.synced()).toBe(true);
    expect(informers.view.storageClass("local-path")?.volumeBindingMode).toBe("WaitForFirstConsumer");
    expect(informers.view.claim("default", "first")?.status?.phase).toBe("Pending");
    expect(informers.view.claim("other", "first")).toBeUndefined();
    expect(seen).toContain("persistentvolumeclaim add first");
    expect(seen).toContain("storageclass resync");
  });

  it("follow changes: a new claim, an annotation, a volume", async () => {
    api.addClaim(claim("second"));
    api.updateClaim("default", "second", (c) => {
      c.metadata.annotations = { "volume.kubernetes.io/selected-node": "n1" };
    });
    api.addVolume({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-1" },
      spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/d" } },
    });
    await vi.waitFor(() => {
      expect(informers.view.claim("default", "second")?.metadata?.annotations).toEqual({
        "volume.kubernetes.io/selected-node": "n1",
      });
      expect(informers.view.volumes().map((v) => v.metadata?.name)).toEqual(["pv-1"]);
    });
    expect(seen).toEqual(
      expect.arrayContaining([
        "persistentvolumeclaim add second",
        "persistentvolumeclaim update second",
        "persistentvolume add pv-1",
      ]),
    );
  });

  it("a claim watch that fails is restarted and catches up", async () => {
    const restarts = informers.claims.restarts;
    api.faults.failNext({ method: "GET", pathPattern: "/persistentvolumeclaims?", status: 500, count: 1 });
    api.faults.dropWatches("reset");
    api.addClaim(claim("third"));
    await vi.waitFor(() => expect(informers.view.claim("default", "third")).toBeDefined(), { timeout: 5000 });
    expect(informers.claims.restarts).toBeGreaterThan(restarts);
  });
});
