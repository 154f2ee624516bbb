import { create } from "@bufbuild/protobuf";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import {
  DecisionSource,
  DecisionStatus,
  FleetReportSchema,
  NodeHealth,
  timestamp,
} from "../../proto/index.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { withoutLastChar } from "./top-keys.ts";
import { labelMatches, renderTop, TopModel } from "./top-view.ts";

const NOW = 1_000_000;

function model() {
  const m = new TopModel();
  const node = (nodeId: string, cpu: number, health = NodeHealth.ONLINE) => ({
    nodeId,
    hostname: nodeId,
    health,
    cpuPercent: cpu,
    memoryPercent: 100 - cpu,
    lastSeenMs: 1000n,
  });
  m.applyReport(
    create(FleetReportSchema, {
      coordinatorId: "c1",
      mode: "standalone",
      nodes: [node("a", 10), node("b", 90), node("c", 50, NodeHealth.STALE)],
    }),
    NOW,
  );
  return m;
}

const ids = (text: string) =>
  text
    .split("\n")
    .filter((l) => /^[abc] /.test(l))
    .map((l) => l[0]);

describe("top view", () => {
  it("sorts by CPU, memory or name and counts states", () => {
    const m = model();
    const view = { label: "", now: NOW, width: 100, color: false };
    expect(ids(renderTop(m, { ...view, sort: "cpu" }))).toEqual(["b", "c", "a"]);
    expect(ids(renderTop(m, { ...view, sort: "memory" }))).toEqual(["a", "c", "b"]);
    expect(ids(renderTop(m, { ...view, sort: "name" }))).toEqual(["a", "b", "c"]);
    expect(renderTop(m, { ...view, sort: "cpu" })).toMatch(
      /^k3s-fleet top — 3 nodes: 2 online, 1 stale, 0 offline/,
    );
  });

  it("moves with telemetry and statuses between reports, and filters by birth labels", () => {
    const m = model();
    m.applyTelemetry("a", telemetry({ session: 1, seq: 2, cpu: 99, timeMs: NOW }), NOW);
    m.applyStatus("b", status("offline", 1));
    const b = birth({ session: 1, nodeId: "c" });
    b.labels = { zone: "edge-2" };
    m.applyBirth("c", b);
    const view = { sort: "cpu" as const, now: NOW, width: 100, color: false };
    const text = renderTop(m, { ...view, label: "" });
    expect(ids(text)).toEqual(["a", "b", "c"]);
    expect(text).toMatch(/^b +b +offline/m);
    expect(ids(renderTop(m, { ...view, label: "zone=edge-2" }))).toEqual(["c"]);
    expect(labelMatches({ zone: "edge-2" }, "zone")).toBe(true);
    expect(labelMatches({ zone: "edge-2" }, "zone=edge-1")).toBe(false);
  });

  it("colours states only when asked, and never passes control characters from the bus", () => {
    const m = model();
    const hostile = birth({ session: 1, nodeId: "a", hostname: "evil\u001b]0;owned\u0007\u001b[2J" });
    m.applyBirth("a", hostile);
    const plain = renderTop(m, { sort: "cpu", label: "", now: NOW, width: 120, color: false });
    expect([...plain].filter((ch) => ch !== "\n" && ch < " ")).toEqual([]);
    expect(plain).toContain("evil?]0;owned??[2J");
    const coloured = renderTop(m, { sort: "cpu", label: "", now: NOW, width: 120, color: true });
    expect(coloured).toContain("\u001b[32monline ");
    expect(coloured).toContain("\u001b[33mstale  ");
    expect(coloured).not.toContain("\u001b]0;");
  });
});

describe("top view: wide characters", () => {
  it("keeps columns aligned for CJK and emoji node names, and cuts them at a whole character", () => {
    const m = new TopModel();
    const node = (nodeId: string) => ({ nodeId, hostname: nodeId, health: NodeHealth.ONLINE, cpuPercent: 5 });
    m.applyReport(
      create(FleetReportSchema, {
        coordinatorId: "c1",
        mode: "standalone",
        nodes: [node("a"), node("東京ノード"), node("🍓-pi"), node("長い名前".repeat(20))],
      }),
      NOW,
    );
    const rows = renderTop(m, { sort: "cpu", label: "", now: NOW, width: 120, color: false })
      .split("\n")
      .filter((l) => /online +\d/.test(l));
    expect(rows).toHaveLength(4);
    // "online" starts at the same terminal column on every row.
    const columns = rows.map((l) => stringWidth(l.slice(0, l.indexOf("online"))));
    expect(new Set(columns).size).toBe(1);
    expect(rows.find((l) => l.startsWith("長い"))).toContain("名…");
  });
});

describe("top view: last decisions from the web view (--web)", () => {
  const decision = (over: Record<string, unknown>) => ({
    id: 1,
    at: Date.UTC(2026, 11, 7, 3, 4, 5),
    source: "mqtt",
    pod: "default/p",
    requestId: "r1",
    status: "scheduled",
    node: "b",
    score: 80.5,
    reasons: [],
    latencyMs: 2.25,
    dryRun: true,
    advisory: false,
    runnerUp: { node: "a", score: 61 },
    message: "",
    ...over,
  });
  const view = { sort: "cpu" as const, label: "", now: NOW, width: 100, color: false };

  it("lists them newest first with outcome, node, runner-up or why; control characters never reach the terminal", () => {
    const m = model();
    m.decisionsFrom = "web";
    m.decisions = [
      decision({
        id: 2,
        status: "unschedulable",
        node: "",
        pod: "default/\u001b]0;owned\u0007x",
        message: "0/3 nodes are available: 3 Insufficient cpu.",
      }),
      decision({}),
    ];
    const text = renderTop(m, view);
    const lines = text.split("\n");
    const at = lines.indexOf("last decisions (newest first, UTC):");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe(
      "  03:04:05 unschedulable default/?]0;owned?x          0/3 nodes are available: 3 Insufficient cpu. (2.3 ms, dry-run)",
    );
    expect(lines[at + 2]).toBe(
      "  03:04:05 scheduled     default/p                    -> b score 80.50, runner-up a 61 (2.3 ms, dry-run)",
    );
    expect(text).not.toContain("\u001b");
    // On a screen (a height), lines are cut at its width.
    const narrow = renderTop(m, { ...view, width: 60, height: 30 }).split("\n");
    const decisionRows = narrow.filter((l) => /^ {2}\d\d:\d\d:\d\d /.test(l));
    expect(decisionRows).toHaveLength(2);
    expect(decisionRows.every((l) => l.length === 60 && l.endsWith("…"))).toBe(true);
  });

  it("says why they are missing", () => {
    const m = model();
    m.decisionsFrom = "web";
    m.decisions = undefined; // the web view not read yet
    expect(renderTop(m, view)).toContain("last decisions: reading the web view…");
    m.decisions = [];
    m.decisionsProblem = "cannot read decisions: http://x answered HTTP 401";
    expect(renderTop(m, view)).toContain(
      "last decisions (newest first, UTC): cannot read decisions: http://x answered HTTP 401",
    );
  });
});

describe("top view: last decisions from the retained report", () => {
  const view = { sort: "cpu" as const, label: "", now: NOW, width: 100, color: false };
  const at = Date.UTC(2026, 11, 7, 3, 4, 5);
  const report = (scheduling: Record<string, unknown> | undefined) =>
    create(FleetReportSchema, {
      coordinatorId: "c1",
      mode: "standalone",
      nodes: [{ nodeId: "a", hostname: "a", health: NodeHealth.ONLINE, cpuPercent: 5 }],
      ...(scheduling ? { scheduling } : {}),
    });

  it("lists the report's decisions, newest first, with node, scores, tags or why", () => {
    const m = new TopModel();
    m.applyReport(
      report({
        decisions: 3n,
        scheduled: 1n,
        unschedulable: 1n,
        rejected: 1n,
        recent: [
          {
            requestId: "r3",
            source: DecisionSource.MQTT_REQUEST,
            status: DecisionStatus.REJECTED,
            time: timestamp(at + 2000),
            latencyMs: 0.5,
            message: "image is required",
          },
          {
            pod: "default/\u001b]0;owned\u0007x",
            source: DecisionSource.PENDING_POD,
            status: DecisionStatus.UNSCHEDULABLE,
            time: timestamp(at + 1000),
            latencyMs: 12,
            message: "0/1 nodes are available: 1 Insufficient cpu.",
          },
          {
            requestId: "r1",
            pod: "default/web",
            source: DecisionSource.DRY_RUN,
            status: DecisionStatus.SCHEDULED,
            node: "a",
            score: 80.5,
            runnerUp: "b",
            runnerUpScore: 61,
            time: timestamp(at),
            latencyMs: 2.25,
            advisory: true,
          },
        ],
      }),
      NOW,
    );
    const text = renderTop(m, view);
    const lines = text.split("\n");
    const head = lines.indexOf("last decisions (newest first, UTC):");
    expect(head).toBeGreaterThan(0);
    expect(lines.slice(head + 1, head + 4)).toEqual([
      "  03:04:07 rejected      r3                           image is required (0.5 ms)",
      "  03:04:06 unschedulable default/?]0;owned?x          0/1 nodes are available: 1 Insufficient cpu. (12.0 ms)",
      "  03:04:05 scheduled     default/web                  -> a score 80.50, runner-up b 61 (2.3 ms, dry-run advisory)",
    ]);
    expect(text).not.toContain("\u001b");
    // --decisions N shows fewer.
    const two = renderTop(m, { ...view, decisions: 1 }).split("\n");
    expect(two.filter((l) => /^ {2}\d\d:\d\d:\d\d /.test(l))).toHaveLength(1);
  });

  it("follows each new report, and says when there are none or the coordinator lists none", () => {
    const m = new TopModel();
    expect(renderTop(m, view)).toContain("waiting for the coordinator's retained report…");
    expect(renderTop(m, view)).not.toContain("last decisions");
    m.applyReport(report({}), NOW);
    expect(renderTop(m, view)).toContain("last decisions (newest first, UTC):\n  none yet");
    // An older coordinator: decisions counted, none listed.
    m.applyReport(report({ decisions: 4n, scheduled: 4n }), NOW);
    expect(renderTop(m, view)).toContain(
      "  none in the report (its coordinator predates them): pass --web http://COORDINATOR:PORT",
    );
    m.applyReport(
      report({
        decisions: 1n,
        recent: [
          { pod: "default/x", status: DecisionStatus.SCHEDULED, node: "a", score: 7, time: timestamp(at) },
        ],
      }),
      NOW,
    );
    expect(renderTop(m, view)).toContain(
      "  03:04:05 scheduled     default/x                    -> a score 7 (0.0 ms)",
    );
  });

  it("keeps the web view's decisions when reading them from there", () => {
    const m = new TopModel();
    m.decisionsFrom = "web";
    m.decisions = [];
    m.applyReport(
      report({ decisions: 1n, recent: [{ pod: "default/x", status: DecisionStatus.SCHEDULED }] }),
      NOW,
    );
    expect(m.decisions).toEqual([]);
  });
});

describe("top's label prompt", () => {
  it("Backspace drops a whole emoji, not half of it (a lone surrogate matched no label)", () => {
    expect(withoutLastChar("emoji=🚀")).toBe("emoji=");
    expect(withoutLastChar("zone=שלום")).toBe("zone=שלו");
    expect(withoutLastChar("")).toBe("");
  });
});
