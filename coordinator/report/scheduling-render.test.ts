import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  createMessage,
  DecisionSource,
  DecisionStatus,
  SchedulingSummarySchema,
  timestamp,
} from "../../proto/index.ts";
import { renderDecision, renderSchedulingSection } from "./scheduling-render.ts";

describe("renderSchedulingSection", () => {
  it("says when nothing was decided", () => {
    expect(renderSchedulingSection(create(SchedulingSummarySchema, {}))).toBe("Scheduling: no decisions yet");
  });

  it("prints counts, latency, placements (busiest first) and reasons", () => {
    const summary = create(SchedulingSummarySchema, {
      decisions: 12n,
      scheduled: 9n,
      unschedulable: 2n,
      rejected: 1n,
      errors: 0n,
      placementsPerNode: { "node-b": 3n, "node-a": 6n },
      unschedulableReasons: { "Insufficient cpu": 2n, "node(s) had an offline agent": 1n },
      latencyP50Ms: 3.456,
      latencyP99Ms: 41.24,
      reachedRunning: 7n,
    });
    expect(renderSchedulingSection(summary)).toBe(
      [
        "Scheduling:",
        "  Decisions: 12   Scheduled: 9   Unschedulable: 2   Rejected: 1   Errors: 0",
        "  Decision Latency: p50 3.46 ms   p99 41.2 ms",
        "  Reached Running: 7",
        "  Placements per Node:",
        "    node-a  6",
        "    node-b  3",
        "  Unschedulable Reasons:",
        "    2× Insufficient cpu",
        "    1× node(s) had an offline agent",
      ].join("\n"),
    );
  });
});

describe("renderSchedulingSection: last decisions", () => {
  it("lists the report's last decisions, newest first, one line each", () => {
    const at = Date.UTC(2026, 11, 7, 3, 4, 5);
    const summary = create(SchedulingSummarySchema, {
      decisions: 2n,
      scheduled: 1n,
      unschedulable: 1n,
      recent: [
        {
          pod: "default/big",
          source: DecisionSource.PENDING_POD,
          status: DecisionStatus.UNSCHEDULABLE,
          time: timestamp(at + 1000),
          latencyMs: 3.5,
          message: "0/2 nodes are available: 2 Insufficient memory.",
        },
        {
          requestId: "r1",
          pod: "default/web",
          source: DecisionSource.DRY_RUN,
          status: DecisionStatus.SCHEDULED,
          node: "node-a",
          score: 77.25,
          time: timestamp(at),
          latencyMs: 1.5,
          advisory: true,
        },
      ],
    });
    const text = renderSchedulingSection(summary).split("\n");
    expect(text.slice(-3)).toEqual([
      "  Last Decisions (newest first, UTC):",
      "    03:04:06 unschedulable default/big                  0/2 nodes are available: 2 Insufficient memory. (3.5 ms)",
      "    03:04:05 scheduled     default/web                  -> node-a score 77.25 (1.5 ms, dry-run advisory)",
    ]);
  });
});

describe("renderDecision", () => {
  it("prints a scheduled decision with its reasoning", () => {
    const d = createMessage("scheduleDecision", {
      requestId: "r1",
      status: DecisionStatus.SCHEDULED,
      node: "node-2",
      score: 87n,
      scores: [{ plugin: "least-allocated", score: 90n, weight: 1n }],
      message: "node-2: score 87 (least-allocated 90×1); runner-up node-1 80",
      rejections: [{ node: "node-3", filter: "NodeResourcesFit", reason: "Insufficient cpu" }],
      podUid: "uid-1",
      runnerUp: "node-1",
      time: timestamp(Date.UTC(2026, 0, 2, 3, 4, 5)),
    });
    expect(renderDecision(d, "default/web")).toBe(
      [
        "SCHEDULED default/web on node-2 (score 87)",
        "  Reason: node-2: score 87 (least-allocated 90×1); runner-up node-1 80",
        "  Scores: least-allocated 90×1",
        "  Runner-up: node-1",
        "  Nodes not chosen:",
        "    node-3  NodeResourcesFit: Insufficient cpu",
        "  Pod UID: uid-1",
        "  Decided: 2026-01-02T03:04:05.000Z",
      ].join("\n"),
    );
  });

  it("lists at most 20 rejected nodes", () => {
    const d = createMessage("scheduleDecision", {
      status: DecisionStatus.UNSCHEDULABLE,
      message: "0/25 nodes are available: 25 Insufficient cpu.",
      rejections: Array.from({ length: 25 }, (_, i) => ({
        node: `n${i}`,
        filter: "NodeResourcesFit",
        reason: "Insufficient cpu",
      })),
    });
    const text = renderDecision(d, "default/web");
    expect(text.split("\n")[0]).toBe("UNSCHEDULABLE default/web");
    expect(text).toContain("    … and 5 more");
    expect(text.match(/Insufficient cpu$/gm)).toHaveLength(20);
  });
});
