// The decision records' explanation (runner-up, message, per-node filter reasons) in the store, and a
// store written before it existed (schema version 1) opened by this version: old rows kept, new ones whole.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DecisionRecord } from "./analytics.ts";
import { summariseRejections } from "./rejections.ts";
import { openDecisionStore } from "./store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-store-v2-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = (id: number): DecisionRecord => ({
  id,
  at: 1000 + id,
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
  dryRun: true,
  running: false,
});

// The version 1 layout, as k3s-fleet wrote it before decisions carried their explanation.
const V1 = `
CREATE TABLE requests (request_id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('creating', 'done')),
  namespace TEXT NOT NULL, pod_name TEXT NOT NULL, decision BLOB, updated_at INTEGER NOT NULL) STRICT;
CREATE INDEX requests_updated_at ON requests (updated_at);
CREATE TABLE decisions (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, source TEXT NOT NULL, pod TEXT NOT NULL,
  request_id TEXT NOT NULL, status TEXT NOT NULL, node TEXT NOT NULL, score REAL NOT NULL, scores TEXT NOT NULL,
  reasons TEXT NOT NULL, latency_ms REAL NOT NULL, advisory INTEGER NOT NULL, dry_run INTEGER NOT NULL,
  running INTEGER NOT NULL) STRICT;
INSERT INTO decisions VALUES (7, 1007, 'pod', 'default/old', '', 'unschedulable', '', 0, '[]',
  '["Insufficient cpu"]', 3.5, 0, 0, 0);
PRAGMA user_version = 1;
`;

describe("decision store explanation", () => {
  it("keeps a record's runner-up, message and per-node filter reasons across reopening", () => {
    const path = join(dir, "s.db");
    const rejected = Array.from({ length: 53 }, (_, i) => ({
      node: `n${i}`,
      filter: "NodeResourcesFit",
      reason: i < 51 ? "Insufficient cpu" : '<img src=x onerror="alert(1)">',
    }));
    const scheduled: DecisionRecord = {
      ...base(1),
      runnerUp: {
        node: "node-2",
        score: 61.5,
        scores: [{ plugin: "least-allocated", score: 40, weight: 1 }],
      },
      message: "node-1: score 80 (least-allocated 90×1); runner-up node-2 61.5",
    };
    const unschedulable: DecisionRecord = {
      ...base(2),
      status: "unschedulable",
      node: "",
      score: 0,
      scores: [],
      reasons: ["Insufficient cpu"],
      message: "0/53 nodes are available: 51 Insufficient cpu, 2 <img>.",
      rejections: summariseRejections(rejected),
    };
    const s = openDecisionStore({ path, keepRecords: 10 });
    s.saveRecord(scheduled);
    s.saveRecord(unschedulable);
    s.close();
    const again = openDecisionStore({ path, keepRecords: 10 });
    const [a, b] = again.loadRecords(10);
    again.close();
    expect(a).toEqual(scheduled);
    expect(b).toEqual(unschedulable);
    expect(b?.rejections?.nodes).toHaveLength(50);
    expect(b?.rejections?.more).toEqual({ "Insufficient cpu": 1, '<img src=x onerror="alert(1)">': 2 });
  });

  it("opens a version 1 store: old records kept without explanation, new ones saved whole", () => {
    const path = join(dir, "v1.db");
    const old = new DatabaseSync(path);
    old.exec(V1);
    old.close();

    const s = openDecisionStore({ path, keepRecords: 10 });
    const withRunnerUp: DecisionRecord = {
      ...base(8),
      runnerUp: { node: "node-2", score: 50, scores: [{ plugin: "least-allocated", score: 50, weight: 1 }] },
      message: "node-1: score 80",
    };
    s.saveRecord(withRunnerUp);
    const [first, second] = s.loadRecords(10);
    s.close();
    expect(first).toEqual({
      id: 7,
      at: 1007,
      source: "pod",
      pod: "default/old",
      requestId: "",
      status: "unschedulable",
      node: "",
      score: 0,
      scores: [],
      reasons: ["Insufficient cpu"],
      latencyMs: 3.5,
      advisory: false,
      dryRun: false,
      running: false,
    });
    expect(second).toEqual(withRunnerUp);
    const check = new DatabaseSync(path);
    expect(check.prepare("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    check.close();
  });
});
