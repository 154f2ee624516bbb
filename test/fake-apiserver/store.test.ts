import { describe, expect, it } from "vitest";
import type { ApiError } from "./status.ts";
import { Store } from "./store.ts";

const pods = { resource: "pods" };
const pod = (name: string) => ({ metadata: { name, namespace: "default" }, spec: {} });

describe("Store", () => {
  it("hands out one global, increasing resourceVersion as decimal strings", () => {
    const store = new Store({ now: () => new Date("2025-01-02T03:04:05.678Z") });
    const a = store.create(pods, pod("a"));
    const n = store.create({ resource: "nodes" }, { metadata: { name: "n" } });
    const b = store.update(pods, { ...a, spec: { x: 1 } });
    expect([a, n, b].map((o) => o.metadata.resourceVersion)).toEqual(["1", "2", "3"]);
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.metadata.uid).toBe(a.metadata.uid);
    expect(a.metadata.creationTimestamp).toBe("2025-01-02T03:04:05Z");
    expect(store.resourceVersion).toBe(3);
  });

  it("rejects duplicates with 409 AlreadyExists and stale updates with 409 Conflict", () => {
    const store = new Store();
    const a = store.create(pods, pod("a"));
    expect(() => store.create(pods, pod("a"))).toThrow('pods "a" already exists');
    store.update(pods, { ...a, spec: { x: 1 } });
    try {
      store.update(pods, { ...a, spec: { x: 2 } });
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).status).toMatchObject({ code: 409, reason: "Conflict" });
    }
  });

  it("generates names from generateName", () => {
    const store = new Store();
    const made = store.create(pods, { metadata: { generateName: "web-", namespace: "default" } });
    expect(made.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it("replays history after a resourceVersion and expires it after compaction", () => {
    const store = new Store();
    const a = store.create(pods, pod("a"));
    store.update(pods, { ...a, spec: { x: 1 } });
    store.delete(pods, "default", "a");
    const since = store.eventsSince(1);
    expect(since).not.toBe("expired");
    expect((since as Array<{ type: string; rv: number }>).map((e) => [e.type, e.rv])).toEqual([
      ["MODIFIED", 2],
      ["DELETED", 3],
    ]);
    store.compact();
    expect(store.eventsSince(2)).toBe("expired");
    expect(store.eventsSince(3)).toEqual([]); // a client that saw everything may carry on
  });

  it("keeps a bounded window: older resourceVersions expire", () => {
    const store = new Store({ historyLimit: 2 });
    for (const name of ["a", "b", "c", "d"]) store.create(pods, pod(name));
    expect(store.eventsSince(1)).toBe("expired");
    expect(store.eventsSince(2)).toHaveLength(2);
  });
});
