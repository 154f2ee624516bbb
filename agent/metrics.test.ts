import { describe, expect, it } from "vitest";
import { agentMetricsText } from "./metrics.ts";

const outbox = {
  offered: 12,
  live: 10,
  replayed: 3,
  acknowledged: 12,
  failed: 1,
  pending: 4,
  inflight: 1,
  droppedByCount: 2,
  droppedByAge: 0,
  droppedOffline: 0,
  reopened: 0,
  storeErrors: 0,
  bufferUnavailable: 1,
  bufferMovedAside: 2,
  bufferWalDamaged: 1,
};

describe("agent metrics text", () => {
  it("exposes samples, durations, publishes, drops and buffer depth with the node label", () => {
    const text = agentMetricsText({
      nodeId: "edge-1",
      connected: true,
      session: 7n,
      seq: 42n,
      sampling: { taken: 12, failed: 1, skipped: 0, durationSecondsTotal: 0.024, lastDurationSeconds: 0.002 },
      outbox,
    });
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value('k3sfleet_agent_samples_total{result="taken",node="edge-1"}')).toBe(12);
    expect(value('k3sfleet_agent_samples_total{result="failed",node="edge-1"}')).toBe(1);
    expect(value('k3sfleet_agent_publishes_total{kind="failed",node="edge-1"}')).toBe(1);
    expect(value('k3sfleet_agent_publishes_total{kind="replayed",node="edge-1"}')).toBe(3);
    expect(value('k3sfleet_agent_dropped_total{reason="count",node="edge-1"}')).toBe(2);
    expect(value('k3sfleet_agent_buffer_depth{node="edge-1"}')).toBe(4);
    expect(value('k3sfleet_agent_sample_duration_seconds_total{node="edge-1"}')).toBe(0.024);
    expect(value('k3sfleet_agent_connected{node="edge-1"}')).toBe(1);
    expect(value('k3sfleet_agent_buffer_unavailable{node="edge-1"}')).toBe(1);
    expect(value('k3sfleet_agent_buffer_damaged_total{what="file",node="edge-1"}')).toBe(2);
    expect(value('k3sfleet_agent_buffer_damaged_total{what="wal",node="edge-1"}')).toBe(1);
    expect(value('k3sfleet_agent_session{node="edge-1"}')).toBe(7);
    expect(text).toContain("# TYPE k3sfleet_agent_samples_total counter");
    // Every sample line is name{labels} value: parseable exposition.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      expect(line).toMatch(/^[a-z0-9_]+\{[^}]*\} [0-9.e+-]+$/);
    }
  });

  it("keeps a node id from breaking the label syntax", () => {
    const text = agentMetricsText({
      nodeId: 'we"ird\\id',
      connected: false,
      session: 0n,
      seq: 0n,
      sampling: { taken: 0, failed: 0, skipped: 0, durationSecondsTotal: 0, lastDurationSeconds: 0 },
      outbox,
    });
    expect(text).toContain('node="we_ird_id"');
  });
});
