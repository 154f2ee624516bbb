// The sliced report: the same report as the one-piece build, pauses where it says, and bytes encoded in
// slices that decode to that report.
import { create, equals } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decode, encode, FleetReportSchema, SchedulingSummarySchema } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { FleetHistory } from "../fleet/history.ts";
import {
  applyBirth,
  applyStatus,
  applyTelemetry,
  cpuPercent,
  createFleet,
  intervalOf,
  memoryPercent,
  nodeFor,
} from "../fleet/state.ts";
import { buildReport, buildReportInSlices, finish, type ReportContext } from "./build.ts";
import { encodeReportInSlices } from "./encode.ts";

const NOW = 1_705_314_645_000;
const CONTEXT: ReportContext = {
  now: NOW,
  coordinatorId: "coord-1",
  mode: "standalone",
  localNodeId: "node-0007",
  ingest: { received: 9, decoded: 8, duplicates: 1, gaps: 0, rejected: { oversized: 1 } },
};

/** `n` nodes, most sampled a few times, every seventh gone by its Will. */
function fleetOf(n: number) {
  const fleet = createFleet({ ...FLEET_DEFAULTS, staleAfterIntervals: 3, offlineAfterIntervals: 12 });
  const history = new FleetHistory();
  for (let i = 0; i < n; i++) {
    const id = `node-${String(i).padStart(4, "0")}`;
    const node = nodeFor(fleet, id, NOW - 60_000);
    applyBirth(node, birth({ nodeId: id, session: 1 }), NOW - 60_000);
    for (let seq = 1; seq <= 3; seq++) {
      const at = NOW - (4 - seq) * 1000;
      const t = telemetry({ session: 1, seq, timeMs: at, cpu: (i * 7 + seq) % 100, memory: (i * 3) % 100 });
      applyTelemetry(fleet, node, t, at);
      history.record(id, intervalOf(fleet, node), node.sampleAtMs, cpuPercent(t), memoryPercent(t));
    }
    if (i % 7 === 0) applyStatus(node, status("offline", 1), NOW - 500);
  }
  return { fleet, history };
}

/** Runs the generator, counting the pauses. */
function drain<T>(slices: Generator<void, T>): { value: T; pauses: number } {
  let pauses = 0;
  for (;;) {
    const step = slices.next();
    if (step.done) return { value: step.value, pauses };
    pauses++;
  }
}

describe("buildReportInSlices", () => {
  const { fleet, history } = fleetOf(1234);
  const whole = buildReport(fleet, history, CONTEXT);

  it.each([1, 100, 500, 1234, 5000])("builds the one-piece report in slices of %i nodes", (slice) => {
    const { value, pauses } = drain(buildReportInSlices(fleet, history, CONTEXT, slice));
    expect(pauses).toBe(Math.ceil(1234 / slice) - 1);
    expect(equals(FleetReportSchema, value, whole)).toBe(true);
  });

  it("has totals and local system that add up", () => {
    expect(whole.nodes).toHaveLength(1234);
    expect(whole.fleet).toMatchObject({ totalNodes: 1234, offlineNodes: 177, onlineNodes: 1057 });
    expect(whole.localSystem?.nodeId).toBe("node-0007");
  });

  it("leaves out a node removed between slices, and counts only what it lists", () => {
    const mutable = fleetOf(30);
    const slices = buildReportInSlices(mutable.fleet, mutable.history, CONTEXT, 10);
    slices.next(); // first 10 nodes done
    mutable.fleet.nodes.delete("node-0025");
    const report = finish(slices);
    expect(report.nodes.map((n) => n.nodeId)).not.toContain("node-0025");
    expect(report.fleet?.totalNodes).toBe(29);
  });
});

describe("encodeReportInSlices", () => {
  const { fleet, history } = fleetOf(1234);
  const report = buildReport(fleet, history, CONTEXT);
  // A section another part adds (decorateReport) travels in the header slice.
  report.scheduling = create(SchedulingSummarySchema, {
    decisions: 5n,
    placementsPerNode: { "node-0001": 4n },
  });

  it.each([1, 100, 500, 5000])("encodes slices of %i nodes that decode to the same report", (slice) => {
    const { value: bytes, pauses } = drain(encodeReportInSlices(report, slice));
    expect(pauses).toBe(Math.ceil(1234 / slice));
    expect(bytes.byteLength).toBe(encode("report", report).byteLength);
    // Compared after a round trip each: float fields lose precision on the wire either way.
    const sliced = decode("report", bytes);
    const whole = decode("report", encode("report", report));
    if (!sliced.ok || !whole.ok) throw new Error("a report did not decode");
    expect(equals(FleetReportSchema, sliced.message, whole.message)).toBe(true);
    expect(sliced.message.scheduling?.placementsPerNode).toEqual({ "node-0001": 4n });
    expect(sliced.message.nodes.map((n) => n.nodeId)).toEqual(report.nodes.map((n) => n.nodeId));
  });

  it("encodes an empty fleet as the header alone", () => {
    const empty = buildReport(createFleet(FLEET_DEFAULTS), new FleetHistory(), CONTEXT);
    const { value, pauses } = drain(encodeReportInSlices(empty));
    expect(pauses).toBe(0);
    expect(value).toEqual(encode("report", empty));
  });
});
