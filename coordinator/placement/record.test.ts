// Decision records keep the explanation: the runner-up's per-plugin scores when placed, and for an
// unschedulable decision kube-scheduler's message with per-node filter reasons (bounded).
import { describe, expect, it } from "vitest";
import type { Decision } from "../scheduler/index.ts";
import { decisionView } from "../web/views.ts";
import { errorDecision, toScheduleDecision } from "./decision.ts";
import { answerResult, decisionRecord, engineResult } from "./record.ts";
import { LISTED_REJECTIONS } from "./rejections.ts";

const placed: Decision = {
  status: "scheduled",
  node: "b",
  score: 82.5,
  scores: [
    { plugin: "least-allocated", score: 90, weight: 1 },
    { plugin: "live-load", score: 75, weight: 1 },
  ],
  runnerUp: {
    node: "a",
    score: 60,
    scores: [
      { plugin: "least-allocated", score: 70, weight: 1 },
      { plugin: "live-load", score: 50, weight: 1 },
    ],
  },
  rejections: [{ node: "c", filter: "NodeResourcesFit", reason: "Insufficient cpu" }],
  message: "b: score 82.5 (least-allocated 90×1, live-load 75×1); runner-up a 60",
  feasible: 2,
  total: 3,
};

const nodes = 120;
const nothing: Decision = {
  status: "unschedulable",
  rejections: Array.from({ length: nodes }, (_, i) => ({
    node: `n${String(i).padStart(3, "0")}`,
    filter: i % 2 === 0 ? "NodeResourcesFit" : "TaintToleration",
    reason: i % 2 === 0 ? "Insufficient cpu" : "node(s) had untolerated taint {gpu: true}",
  })),
  message: "0/120 nodes are available: 60 Insufficient cpu, 60 node(s) had untolerated taint {gpu: true}.",
  feasible: 0,
  total: nodes,
};

const from = {
  source: "mqtt" as const,
  pod: "default/p",
  requestId: "r1",
  dryRun: true,
  advisory: true,
  at: 1000,
  since: 1000,
};

describe("decision record explanation", () => {
  it("keeps the runner-up and its per-plugin scores of a placed pod (pending-pod path)", () => {
    const r = decisionRecord(from, engineResult(placed, "scheduled"), 1005);
    expect(r.runnerUp).toEqual(placed.runnerUp);
    expect(r.message).toBe(placed.message);
    expect(r.rejections).toBeUndefined();
  });

  it("keeps the runner-up of an MQTT answer from the engine decision behind it", () => {
    const answer = toScheduleDecision(placed, { requestId: "r1", now: 1004 });
    const r = decisionRecord(from, answerResult(answer, [], placed), 1005);
    expect(r.runnerUp).toEqual(placed.runnerUp);
    // The wire rounds scores to integers (83); the record keeps the engine's exact ones, as for the runner-up.
    expect(Number(answer.score)).toBe(83);
    expect(r.score).toBe(82.5);
    expect(r.scores).toEqual(placed.scores);
    // Without the engine decision, the wire's figures.
    expect(decisionRecord(from, answerResult(answer, []), 1005).score).toBe(83);
    // Without the engine decision (a refusal, an error) there is no runner-up to show.
    const refused = decisionRecord(from, answerResult(errorDecision("r1", "boom", 1004), ["boom"]), 1005);
    expect(refused.runnerUp).toBeUndefined();
    expect(refused.message).toBe("boom");
  });

  it("keeps kube-scheduler's message and the first nodes' filter reasons, counting the rest", () => {
    for (const result of [
      engineResult(nothing, "unschedulable", ["Insufficient cpu"]),
      answerResult(toScheduleDecision(nothing, { requestId: "r1", now: 1 }), ["Insufficient cpu"], nothing),
    ]) {
      const r = decisionRecord(from, result, 1005);
      expect(r.message).toBe(nothing.message);
      expect(r.runnerUp).toBeUndefined();
      expect(r.rejections?.total).toBe(nodes);
      expect(r.rejections?.nodes).toEqual(nothing.rejections.slice(0, LISTED_REJECTIONS));
      expect(r.rejections?.more).toEqual({
        "Insufficient cpu": (nodes - LISTED_REJECTIONS) / 2,
        "node(s) had untolerated taint {gpu: true}": (nodes - LISTED_REJECTIONS) / 2,
      });
      const view = decisionView({ ...r, id: 1, running: false });
      expect(view.rejections?.more.map(([, n]) => n).reduce((a, b) => a + b, 0)).toBe(
        nodes - LISTED_REJECTIONS,
      );
      expect(view.message).toBe(nothing.message);
      expect(view.runnerUp).toBeNull();
    }
  });
});
