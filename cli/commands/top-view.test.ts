import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FleetReportSchema, NodeHealth } from "../../proto/index.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
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
