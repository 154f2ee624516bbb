import { describe, expect, it } from "vitest";
import { createMessage, DecisionStatus, timestampMs } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import { alreadyBoundDecision, errorDecision, rejectedDecision, toScheduleDecision } from "./decision.ts";

const scheduled: Decision = {
  status: "scheduled",
  node: "node-2",
  score: 87.46,
  scores: [
    { plugin: "least-allocated", score: 90.5, weight: 1 },
    { plugin: "live-load", score: 70, weight: 2 },
  ],
  runnerUp: { node: "node-1", score: 80, scores: [] },
  rejections: [{ node: "node-3", filter: "NodeResourcesFit", reason: "Insufficient cpu" }],
  message: "node-2: score 87.46 (…); runner-up node-1 80",
  feasible: 2,
  total: 3,
};

describe("toScheduleDecision", () => {
  it("keeps node, rounded scores, reasons, runner-up and the context", () => {
    const d = toScheduleDecision(scheduled, { requestId: "r1", now: 1_700_000_000_000, podUid: "uid-1" });
    expect(d).toMatchObject({
      requestId: "r1",
      status: DecisionStatus.SCHEDULED,
      node: "node-2",
      score: 87n,
      message: scheduled.message,
      podUid: "uid-1",
      advisory: false,
      runnerUp: "node-1",
    });
    expect(d.scores.map((s) => [s.plugin, s.score, s.weight])).toEqual([
      ["least-allocated", 91n, 1n],
      ["live-load", 70n, 2n],
    ]);
    expect(d.rejections.map((r) => [r.node, r.filter, r.reason])).toEqual([
      ["node-3", "NodeResourcesFit", "Insufficient cpu"],
    ]);
    expect(timestampMs(d.time)).toBe(1_700_000_000_000);
  });

  it("maps unschedulable, advisory decisions", () => {
    const d = toScheduleDecision(
      {
        status: "unschedulable",
        rejections: [],
        message: "no nodes available to schedule pods",
        feasible: 0,
        total: 0,
      },
      { requestId: "r2", now: 0, advisory: true },
    );
    expect(d).toMatchObject({
      status: DecisionStatus.UNSCHEDULABLE,
      node: "",
      score: 0n,
      advisory: true,
      runnerUp: "",
    });
  });
});

describe("refusals and errors", () => {
  it("prefixes refusals", () => {
    expect(rejectedDecision("r", "namespace x is not allowed", 0)).toMatchObject({
      status: DecisionStatus.REJECTED,
      message: "request refused: namespace x is not allowed",
    });
    expect(errorDecision("r", "boom", 0, "u")).toMatchObject({
      status: DecisionStatus.ERROR,
      message: "boom",
      podUid: "u",
    });
  });

  it("keeps the planned reasoning when the pod is found bound where we planned", () => {
    const planned = toScheduleDecision(scheduled, { requestId: "r1", now: 0 });
    const d = alreadyBoundDecision(planned, { requestId: "r1", now: 5, node: "node-2", podUid: "u" });
    expect(d).toMatchObject({ status: DecisionStatus.SCHEDULED, node: "node-2", score: 87n, podUid: "u" });
    expect(d.message).toBe(scheduled.message);
  });

  it("says so when the pod is bound elsewhere", () => {
    const planned = createMessage("scheduleDecision", {
      requestId: "r1",
      status: DecisionStatus.SCHEDULED,
      node: "node-2",
    });
    expect(
      alreadyBoundDecision(planned, { requestId: "r1", now: 5, node: "node-9", podUid: "u" }),
    ).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      node: "node-9",
      message: "pod was already bound to node-9 (this coordinator had chosen node-2)",
    });
    expect(
      alreadyBoundDecision(undefined, { requestId: "r1", now: 5, node: "node-9", podUid: "u" }).message,
    ).toBe("pod was already bound to node-9");
  });
});
