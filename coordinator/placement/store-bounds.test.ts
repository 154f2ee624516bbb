// The decision store's size and age bounds (issue 12: ~38 KB per stored decision at 500 nodes, kept for
// ever): reasons cut to a bound, records older than the retention deleted.
import { describe, expect, it } from "vitest";
import type { DecisionRecord } from "./analytics.ts";
import { boundedReasons, MAX_REASON_CHARS, MAX_STORED_REASONS, openDecisionStore } from "./store.ts";

const record = (id: number, at: number, reasons: string[] = []): DecisionRecord => ({
  id,
  at,
  source: "mqtt",
  pod: `default/p${id}`,
  requestId: `r${id}`,
  status: "unschedulable",
  node: "",
  score: 0,
  scores: [],
  reasons,
  latencyMs: 1,
  advisory: false,
  dryRun: false,
  running: false,
});

describe("decision store bounds", () => {
  it("stores at most MAX_STORED_REASONS reasons of MAX_REASON_CHARS each, saying how many were left out", () => {
    const store = openDecisionStore({ path: ":memory:", keepRecords: 100 });
    // 500 nodes, each with its own long reason: what made a record ~38 KB.
    const reasons = Array.from({ length: 500 }, (_, i) => `node-${i}: ${"x".repeat(1000)}`);
    store.saveRecord(record(1, 1, reasons));
    const [saved] = store.loadRecords(1);
    expect(saved?.reasons).toHaveLength(MAX_STORED_REASONS);
    expect(saved?.reasons.at(-1)).toBe(`… and ${500 - (MAX_STORED_REASONS - 1)} more`);
    expect(saved?.reasons[0]).toHaveLength(MAX_REASON_CHARS);
    expect(JSON.stringify(saved).length).toBeLessThan(MAX_STORED_REASONS * (MAX_REASON_CHARS + 10) + 1000);
    expect(boundedReasons(["a", "b"])).toEqual(["a", "b"]);
    store.close();
  });

  it("deletes records older than a time, keeps the newer", () => {
    const store = openDecisionStore({ path: ":memory:", keepRecords: 100 });
    for (let i = 1; i <= 10; i++) store.saveRecord(record(i, i * 1000));
    expect(store.pruneRecords(5500)).toBe(5);
    expect(store.loadRecords(100).map((r) => r.id)).toEqual([6, 7, 8, 9, 10]);
    store.close();
  });
});
