import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMessage, DecisionStatus } from "../../proto/index.ts";
import type { DecisionRecord } from "./analytics.ts";
import { SchedulingError } from "./errors.ts";
import { openDecisionStore } from "./store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-store-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const decision = (node: string) =>
  createMessage("scheduleDecision", {
    requestId: "r1",
    status: DecisionStatus.SCHEDULED,
    node,
    podUid: "u1",
  });

const record = (id: number): DecisionRecord => ({
  id,
  at: id,
  source: "mqtt",
  pod: `default/p${id}`,
  requestId: `r${id}`,
  status: "scheduled",
  node: "node-1",
  score: 80,
  scores: [{ plugin: "least-allocated", score: 90, weight: 1 }],
  reasons: [],
  latencyMs: 1.5,
  advisory: false,
  dryRun: false,
  running: false,
});

describe("decision store", () => {
  it("keeps request ids and their decisions across reopening", () => {
    const path = join(dir, "nested", "scheduling.sqlite");
    const store = openDecisionStore({ path, keepRecords: 10 });
    expect(store.request("r1")).toBeUndefined();
    store.begin("r1", "default", "web", decision("node-1"), 1000);
    expect(store.request("r1")).toMatchObject({ state: "creating", namespace: "default", podName: "web" });
    store.finish("r1", "default", "web", decision("node-2"), 2000);
    store.close();
    const again = openDecisionStore({ path, keepRecords: 10 });
    const stored = again.request("r1");
    expect(stored).toMatchObject({ state: "done", updatedAt: 2000 });
    expect(stored?.decision?.node).toBe("node-2");
    again.forget("r1");
    expect(again.request("r1")).toBeUndefined();
    again.close();
  });

  it("prunes request ids older than the retention", () => {
    const store = openDecisionStore({ path: ":memory:", keepRecords: 10 });
    store.finish("old", "default", "a", decision("n"), 1000);
    store.finish("new", "default", "b", decision("n"), 5000);
    expect(store.prune(2000)).toBe(1);
    expect(store.request("old")).toBeUndefined();
    expect(store.request("new")).toBeDefined();
    store.close();
  });

  it("remembers who first asked with a request id, and forgets it with the retention", () => {
    const store = openDecisionStore({ path: ":memory:", keepRecords: 10 });
    store.own("r1", "ops", 1_000);
    store.own("r1", "dev", 2_000); // a later requester does not take it over
    store.own("r2", "dev", 5_000);
    expect([store.ownerOf("r1"), store.ownerOf("r2"), store.ownerOf("r3")]).toEqual([
      "ops",
      "dev",
      undefined,
    ]);
    store.prune(3_000);
    expect([store.ownerOf("r1"), store.ownerOf("r2")]).toEqual([undefined, "dev"]);
    store.close();
  });

  it("keeps decision records, newest last, and their outcome", () => {
    const store = openDecisionStore({ path: ":memory:", keepRecords: 300 });
    for (let id = 1; id <= 600; id++) store.saveRecord(record(id));
    store.markRunning(600);
    const loaded = store.loadRecords(3);
    expect(loaded.map((r) => r.id)).toEqual([598, 599, 600]);
    expect(loaded[2]).toEqual({ ...record(600), running: true });
    expect(store.loadRecords(1000).length).toBeLessThanOrEqual(600 - 300 + 256);
    store.close();
  });

  it("fails with a coded error when the file cannot be opened", async () => {
    await writeFile(join(dir, "a-file"), "not a directory");
    const open = () => openDecisionStore({ path: join(dir, "a-file", "scheduling.sqlite"), keepRecords: 1 });
    expect(open).toThrow(SchedulingError);
    expect(open).toThrow("cannot open scheduling store");
  });

  it("refuses a store written by a newer version", () => {
    const path = join(dir, "future.sqlite");
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    expect(() => openDecisionStore({ path, keepRecords: 1 })).toThrow(SchedulingError);
  });
});
