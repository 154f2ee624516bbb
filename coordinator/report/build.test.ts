import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decode, encode, NodeHealth, NodeReportSchema, TrendSchema, timestampMs } from "../../proto/index.ts";
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
import { buildReport, type IngestTotals } from "./build.ts";

const NOW = 1_705_314_645_000; // 2024-01-15 10:30:45 UTC
const INGEST: IngestTotals = {
  received: 10,
  decoded: 8,
  duplicates: 1,
  gaps: 2,
  rejected: { decode_error: 2 },
};

/** Three nodes: "node-b" live, "node-a" silent long enough to be STALE, "node-c" gone by its Will. */
function fleetOfThree() {
  const fleet = createFleet({ staleAfterIntervals: 3, offlineAfterIntervals: 12 });
  const history = new FleetHistory();
  const sample = (id: string, session: number, seq: number, at: number, cpu: number, memory: number) => {
    const node = nodeFor(fleet, id, at);
    const t = telemetry({ session, seq, timeMs: at, cpu, memory, disk: 41 });
    if (applyTelemetry(fleet, node, t, at) !== "duplicate") {
      history.record(id, intervalOf(fleet, node), node.sampleAtMs, cpuPercent(t), memoryPercent(t));
    }
  };
  for (const id of ["node-b", "node-a", "node-c"]) {
    applyBirth(
      nodeFor(fleet, id, 0),
      birth({ nodeId: id, session: 1, hostname: `${id}.lan` }),
      NOW - 600_000,
    );
  }
  // node-b: one sample per second for the last 6 minutes; cpu 20 % then 40 % in the last minute.
  for (let i = 360; i >= 1; i--) sample("node-b", 1, 361 - i, NOW - i * 1000, i <= 60 ? 40 : 20, 45.2);
  sample("node-b", 1, 361, NOW - 1200, 25.5, 45.2);
  sample("node-b", 1, 361, NOW - 1200, 25.5, 45.2); // duplicate
  // node-a: last sample 10 s ago at 1 s interval → STALE.
  sample("node-a", 1, 1, NOW - 10_000, 70, 80);
  // node-c: sampled, then its Will.
  sample("node-c", 1, 1, NOW - 2000, 5, 10);
  applyStatus(nodeFor(fleet, "node-c", 0), status("offline", 1), NOW - 1000);
  return { fleet, history };
}

describe("buildReport", () => {
  const { fleet, history } = fleetOfThree();
  const report = buildReport(fleet, history, {
    now: NOW,
    coordinatorId: "coord-1",
    mode: "standalone",
    localNodeId: "node-b.lan",
    ingest: INGEST,
  });

  it("totals fleet health over all nodes", () => {
    expect(timestampMs(report.time)).toBe(NOW);
    expect(report.coordinatorId).toBe("coord-1");
    expect(report.mode).toBe("standalone");
    expect(report.fleet).toMatchObject({ totalNodes: 3, onlineNodes: 1, staleNodes: 1, offlineNodes: 1 });
    expect(report.fleet?.healthPercent).toBeCloseTo(33.333, 2);
    // Averages over ONLINE nodes only.
    expect(report.fleet?.avgCpuPercent).toBeCloseTo(25.5, 5);
    expect(report.fleet?.avgMemoryPercent).toBeCloseTo(45.2, 2);
  });

  it("lists nodes sorted by id with their health and latest values", () => {
    expect(report.nodes.map((n) => [n.nodeId, n.health])).toEqual([
      ["node-a", NodeHealth.STALE],
      ["node-b", NodeHealth.ONLINE],
      ["node-c", NodeHealth.OFFLINE],
    ]);
    const b = report.nodes[1];
    expect(b).toMatchObject({
      hostname: "node-b.lan",
      session: 1n,
      lastSeenMs: 1200n,
      cores: 4,
      memoryTotalBytes: 8n * 1024n ** 3n,
      diskMaxUsePercent: 41,
      rxBytesPerSec: 12_000n, // the default interface, not the sum
      txBytesPerSec: 3_400n,
      online: true,
      internet: true,
      vpn: true,
      uptimeSeconds: 86_400n,
      received: 362n,
      duplicates: 1n,
      gaps: 0n,
      historical: 0n,
      agentVersion: "0.1.0",
      os: "Debian GNU/Linux 12",
    });
    expect(b?.cpuPercent).toBeCloseTo(25.5, 5);
    expect(b?.memoryPercent).toBeCloseTo(45.2, 2);
    expect(b?.cpuTemperatureCelsius).toBeCloseTo(48.5, 5);
  });

  it("carries 5 and 60 minute trends from history", () => {
    const b = report.nodes[1];
    // (now - 5 min, now] holds the samples of seconds -299..-1 and the 25.5 % one at -1.2 s.
    expect(b?.cpu5m?.samples).toBe(300);
    expect(b?.cpu5m?.min).toBe(20);
    expect(b?.cpu5m?.max).toBe(40);
    expect(b?.cpu60m?.samples).toBe(361);
    expect(b?.memory60m?.min).toBeCloseTo(45.2, 2);
    expect(report.nodes[0]?.cpu5m).toMatchObject({ samples: 1, min: 70, max: 70 });
  });

  it("picks the local system by hostname (or node id)", () => {
    expect(report.localSystem?.nodeId).toBe("node-b");
    const byId = buildReport(fleet, history, {
      now: NOW,
      coordinatorId: "c",
      mode: "m",
      localNodeId: "node-a",
      ingest: INGEST,
    });
    expect(byId.localSystem?.nodeId).toBe("node-a");
    const none = buildReport(fleet, history, { now: NOW, coordinatorId: "c", mode: "m", ingest: INGEST });
    expect(none.localSystem).toBeUndefined();
  });

  it("carries the ingest counters", () => {
    expect(report.ingest).toMatchObject({
      received: 10n,
      decoded: 8n,
      duplicates: 1n,
      gaps: 2n,
      rejected: { decode_error: 2n },
    });
  });

  it("survives the wire: encodes and decodes to the same report", () => {
    const decoded = decode("report", encode("report", report));
    expect(decoded.ok && decoded.message.nodes.map((n) => n.nodeId)).toEqual(["node-a", "node-b", "node-c"]);
    expect(decoded.ok && decoded.message.fleet?.totalNodes).toBe(3);
  });

  it("sets every field a created NodeReport and Trend has (they are built as literals)", () => {
    for (const node of report.nodes) {
      expect(Object.keys(node)).toEqual(expect.arrayContaining(Object.keys(create(NodeReportSchema))));
      expect(Object.keys(node.cpu5m ?? {})).toEqual(expect.arrayContaining(Object.keys(create(TrendSchema))));
    }
  });

  it("reports an empty fleet without dividing by zero", () => {
    const empty = buildReport(createFleet(), new FleetHistory(), {
      now: NOW,
      coordinatorId: "c",
      mode: "m",
      ingest: INGEST,
    });
    expect(empty.fleet).toMatchObject({ totalNodes: 0, healthPercent: 0, avgCpuPercent: 0 });
    expect(empty.nodes).toEqual([]);
  });

  it("a node known only from a status has no last-seen and no trends", () => {
    const f = createFleet();
    applyStatus(nodeFor(f, "x", 0), status("online", 1, NOW), NOW);
    const [x] = buildReport(f, new FleetHistory(), {
      now: NOW,
      coordinatorId: "c",
      mode: "m",
      ingest: INGEST,
    }).nodes;
    expect(x?.lastSeenMs).toBeUndefined();
    expect(x?.cpu5m?.samples).toBe(0);
    expect(x?.health).toBe(NodeHealth.ONLINE);
  });
});
