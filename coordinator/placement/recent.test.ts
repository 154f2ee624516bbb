import { toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  DecisionSource,
  DecisionStatus,
  RecentDecisionSchema,
  SchedulingSummarySchema,
  timestampMs,
} from "../../proto/index.ts";
import { createAnalytics, type DecisionRecord, type NewRecord } from "./analytics.ts";
import {
  bounded,
  MAX_RECENT,
  MAX_RECENT_MESSAGE,
  MAX_RECENT_NAME,
  recentDecision,
  recentDecisions,
} from "./recent.ts";

const AT = Date.UTC(2026, 11, 7, 3, 4, 5, 123);

const base: NewRecord = {
  at: AT,
  source: "mqtt",
  pod: "default/a",
  requestId: "r1",
  status: "scheduled",
  node: "node-1",
  score: 80.5,
  scores: [{ plugin: "least-allocated", score: 90, weight: 1 }],
  reasons: [],
  latencyMs: 2.25,
  advisory: true,
  dryRun: false,
};
const record = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  ...base,
  id: 1,
  running: false,
  ...over,
});

describe("recentDecision", () => {
  it("keeps what a subscriber shows of a placement: pod, request, node, scores, latency, time", () => {
    const d = recentDecision(
      record({ runnerUp: { node: "node-2", score: 61.25, scores: [] }, message: "node-1: score 80" }),
    );
    expect(d).toMatchObject({
      requestId: "r1",
      pod: "default/a",
      source: DecisionSource.MQTT_REQUEST,
      status: DecisionStatus.SCHEDULED,
      node: "node-1",
      latencyMs: 2.25,
      score: 80.5,
      runnerUp: "node-2",
      runnerUpScore: 61.25,
      message: "node-1: score 80",
      advisory: true,
    });
    expect(timestampMs(d.time)).toBe(AT);
  });

  it.each([
    ["mqtt", false, DecisionSource.MQTT_REQUEST],
    ["mqtt", true, DecisionSource.DRY_RUN],
    ["pod", false, DecisionSource.PENDING_POD],
  ] as const)("source %s (dry run %s) is %s", (source, dryRun, expected) => {
    expect(recentDecision(record({ source, dryRun })).source).toBe(expected);
  });

  it("gives no node or score unless placed, and says why in the decision's words or the refusal's", () => {
    const unschedulable = recentDecision(
      record({
        status: "unschedulable",
        node: "node-1",
        score: 0,
        reasons: ["Insufficient cpu"],
        message: "0/3 nodes are available: 3 Insufficient cpu.",
        runnerUp: { node: "node-2", score: 1, scores: [] },
      }),
    );
    expect(unschedulable).toMatchObject({
      status: DecisionStatus.UNSCHEDULABLE,
      node: "",
      runnerUp: "",
      message: "0/3 nodes are available: 3 Insufficient cpu.",
    });
    expect(unschedulable.score).toBeUndefined();
    expect(unschedulable.runnerUpScore).toBeUndefined();
    const rejected = recentDecision(
      record({ status: "rejected", reasons: ["image is required"], message: "request refused: x" }),
    );
    expect(rejected).toMatchObject({ status: DecisionStatus.REJECTED, message: "image is required" });
    expect(recentDecision(record({ status: "error", reasons: [], message: "boom" })).message).toBe("boom");
    expect(recentDecision(record({ status: "unschedulable", reasons: ["a", "b"] })).message).toBe("a; b");
  });

  it("bounds every string, and drops a score that is not a number", () => {
    const long = "x".repeat(5000);
    const utf8 = (text: string) => Buffer.byteLength(text);
    const d = recentDecision(
      record({ status: "unschedulable", pod: long, requestId: long, message: "é".repeat(300) }),
    );
    // "é" is 2 bytes: 98 of them and "…" (3 bytes) fit in 200.
    expect(d.message).toBe(`${"é".repeat(98)}…`);
    expect(utf8(d.message)).toBeLessThanOrEqual(MAX_RECENT_MESSAGE);
    expect(d.pod).toBe(`${"x".repeat(MAX_RECENT_NAME - 3)}…`);
    expect(utf8(d.requestId)).toBe(MAX_RECENT_NAME);
    expect(recentDecision(record({ score: Number.NaN })).score).toBeUndefined();
    // Whole characters only: never half of a surrogate pair.
    expect(bounded("😀😀😀", 8)).toBe("😀…");
    expect(bounded("😀😀", 8)).toBe("😀😀");
    expect(bounded("a".repeat(200), 200)).toBe("a".repeat(200));
    expect(bounded("a".repeat(201), 200)).toBe(`${"a".repeat(197)}…`);
  });
});

describe("recentDecisions", () => {
  it("lists the newest first, at most MAX_RECENT", () => {
    const records = Array.from({ length: 25 }, (_, i) => record({ id: i + 1, pod: `default/p${i}` }));
    const list = recentDecisions(records);
    expect(list.map((d) => d.pod)).toEqual(
      Array.from({ length: MAX_RECENT }, (_, i) => `default/p${24 - i}`),
    );
    expect(recentDecisions(records, 0)).toEqual([]);
    expect(recentDecisions([])).toEqual([]);
  });
});

describe("the report's scheduling summary", () => {
  it("carries the last decisions of the analytics window, newest first", () => {
    const a = createAnalytics({ window: 100 });
    a.record({ ...base, pod: "default/old" });
    a.record({ ...base, pod: "default/new", status: "unschedulable", message: "0/1 nodes are available" });
    const s = a.summary();
    expect(s.recent.map((d) => [d.pod, d.status])).toEqual([
      ["default/new", DecisionStatus.UNSCHEDULABLE],
      ["default/old", DecisionStatus.SCHEDULED],
    ]);
  });

  it("stays small whatever the decisions hold: ten worst-case entries in a few KiB", () => {
    const a = createAnalytics({ window: 1000 });
    const long = "😀".repeat(10_000);
    for (let i = 0; i < 1000; i++)
      a.record({
        ...base,
        pod: long,
        requestId: long,
        node: long,
        message: long,
        runnerUp: { node: long, score: 1, scores: [] },
      });
    const s = a.summary();
    expect(s.recent).toHaveLength(MAX_RECENT);
    const one = toBinary(RecentDecisionSchema, s.recent[0] ?? recentDecision(record()));
    // Four names of at most 256 bytes, a message of at most 200, and the numbers.
    expect(one.length).toBeLessThan(4 * (MAX_RECENT_NAME + 3) + MAX_RECENT_MESSAGE + 64);
    const recentOnly = toBinary(SchedulingSummarySchema, { ...s, placementsPerNode: {} } as typeof s);
    expect(recentOnly.length).toBeLessThan(MAX_RECENT * (one.length + 3) + 200);
  });
});
