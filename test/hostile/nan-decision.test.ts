// Issue 12: one node's NaN made every MQTT schedule request fail with "NaN cannot be converted to a
// BigInt" when the decision was encoded. Ingest now rejects non-finite telemetry (telemetry-range.test.ts);
// this is the second guard, where scores become wire integers.
import { describe, expect, it } from "vitest";
import { toScheduleDecision } from "../../coordinator/placement/decision.ts";

describe("a decision whose scores are not finite", () => {
  it("is encoded with 0 for those scores instead of throwing", () => {
    const decision = toScheduleDecision(
      {
        status: "scheduled",
        node: "a",
        score: Number.NaN,
        scores: [{ plugin: "Fleet", score: Number.POSITIVE_INFINITY, weight: 1 }],
        rejections: [],
        message: "ok",
        feasible: 1,
        total: 1,
      },
      { requestId: "r1", now: 0 },
    );
    expect(decision.score).toBe(0n);
    expect(decision.scores[0]?.score).toBe(0n);
  });
});
