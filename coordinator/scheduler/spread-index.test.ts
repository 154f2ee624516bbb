import { describe, expect, it } from "vitest";
import { makeNode, makePod } from "../../test/support/scheduler.ts";
import { createAssumeCache } from "./assume.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "./config.ts";
import { buildSnapshot, type NodeInput, type Snapshot } from "./snapshot.ts";
import { podMatches, spreadCounts } from "./spread-index.ts";

const node = (name: string, pods: Array<[string, Record<string, string>, string?]>): NodeInput => ({
  node: makeNode(name),
  pods: pods.map(([pod, labels, namespace]) => makePod(pod, { labels, ...(namespace ? { namespace } : {}) })),
});

// The plain definition: pods on the node in the namespace whose labels hold every entry.
const reference = (snapshot: Snapshot, namespace: string, entries: Array<[string, string]>): number[] =>
  snapshot.nodes.map((n) => n.pods.filter((p) => podMatches({ namespace, entries }, p)).length);

describe("spreadCounts", () => {
  const fleet = (): Snapshot =>
    buildSnapshot([
      node("n1", [
        ["a1", { app: "a" }],
        ["a2", { app: "a", tier: "web" }],
        ["b1", { app: "b" }],
        ["x1", { app: "a" }, "other"],
      ]),
      node("n2", [["a3", { app: "a", tier: "web" }]]),
      node("n3", [["c1", { name: "c" }]]),
    ]);

  it("counts matching pods per node, namespace by namespace", () => {
    const s = fleet();
    expect([...spreadCounts(s, "default", [["app", "a"]])]).toEqual([2, 1, 0]);
    expect([...spreadCounts(s, "other", [["app", "a"]])]).toEqual([1, 0, 0]);
    expect([...spreadCounts(s, "default", [["app", "b"]])]).toEqual([1, 0, 0]);
  });

  it("indexes every value of the key in one pass, and a value no pod has with zero counts", () => {
    const s = fleet();
    expect([...spreadCounts(s, "default", [["app", "new"]])]).toEqual([0, 0, 0]);
    // app=a, app=b (default), app=a (other) and app=new
    expect(s.spreadIndex.size).toBe(4);
  });

  it("counts selectors with several entries", () => {
    const s = fleet();
    const entries: Array<[string, string]> = [
      ["app", "a"],
      ["tier", "web"],
    ];
    expect([...spreadCounts(s, "default", entries)]).toEqual([1, 1, 0]);
  });

  it("falls back to one selector when the key has more values than one pass should index", () => {
    const pods: Array<[string, Record<string, string>]> = Array.from({ length: 300 }, (_, i) => [
      `p${i}`,
      { app: `app-${i % 290}` },
    ]);
    const s = buildSnapshot([node("n1", pods.slice(0, 150)), node("n2", pods.slice(150))]);
    for (const app of ["app-0", "app-5", "app-289", "missing"]) {
      expect([...spreadCounts(s, "default", [["app", app]])]).toEqual(
        reference(s, "default", [["app", app]]),
      );
    }
    expect([...spreadCounts(s, "default", [["app", "app-5"]])]).toEqual([1, 1]);
    expect(s.spreadIndex.size).toBe(4);
  });

  it("keeps indexed counts current as pods are assumed and forgotten", () => {
    const s = fleet();
    spreadCounts(s, "default", [["app", "a"]]); // builds app=a and app=b
    const cache = createAssumeCache(DEFAULT_SCHEDULER_CONFIG);
    cache.assume(s, makePod("b2", { labels: { app: "b" } }), "n3", 0);
    cache.assume(s, makePod("a4", { labels: { app: "a" } }), "n2", 0);
    expect([...spreadCounts(s, "default", [["app", "b"]])]).toEqual([1, 0, 1]);
    expect([...spreadCounts(s, "default", [["app", "a"]])]).toEqual([2, 2, 0]);
    cache.forget(s, "default/a4");
    expect([...spreadCounts(s, "default", [["app", "a"]])]).toEqual(reference(s, "default", [["app", "a"]]));
    expect([...spreadCounts(s, "default", [["app", "a"]])]).toEqual([2, 1, 0]);
  });
});
