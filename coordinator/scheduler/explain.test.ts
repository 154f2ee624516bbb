import { describe, expect, it } from "vitest";
import { compareCodePoints, fitErrorMessage, scheduledMessage } from "./explain.ts";

describe("explanations", () => {
  it("formats FitError exactly like kube-scheduler", () => {
    const counts = new Map([
      ["Insufficient cpu", 2],
      ["node(s) were unschedulable", 1],
      ["node(s) had untolerated taint {edge: true}", 2],
    ]);
    expect(fitErrorMessage(5, counts)).toBe(
      "0/5 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu, 2 node(s) had untolerated taint {edge: true}.",
    );
    expect(fitErrorMessage(0, new Map())).toBe("no nodes available to schedule pods");
  });

  it("sorts like Go's sort.Strings (bytes), including astral characters", () => {
    expect(["b", "B", "a", "10 x", "2 x"].sort(compareCodePoints)).toEqual(["10 x", "2 x", "B", "a", "b"]);
    // U+FF5E sorts below U+1F600 in code points, above it in UTF-16 code units.
    expect(["\u{1F600}", "\uFF5E"].sort(compareCodePoints)).toEqual(["\uFF5E", "\u{1F600}"]);
  });

  it("writes a short reason for a scheduled pod", () => {
    expect(
      scheduledMessage(
        "node-3",
        87,
        [
          { plugin: "least-allocated", score: 90, weight: 1 },
          { plugin: "balanced-allocation", score: 80, weight: 1 },
        ],
        { node: "node-1", score: 82 },
      ),
    ).toBe("node-3: score 87 (least-allocated 90×1, balanced-allocation 80×1); runner-up node-1 82");
    expect(scheduledMessage("only", 12.5, [], undefined)).toBe(
      "only: score 12.5 (no score plugins); no runner-up",
    );
  });
});
