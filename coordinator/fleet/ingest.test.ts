import pino from "pino";
import { describe, expect, it } from "vitest";
import { encode, NodeHealth, topicsFor } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { createIngest, type IngestOptions } from "./ingest.ts";
import { nodeHealth } from "./state.ts";

const ROOT = "k3s-fleet/v1";
const topics = topicsFor(ROOT);

/** Cuts `n` bytes off the end (inside the last field, for the cuts used here). */
function truncated(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.slice(0, bytes.length - n);
}

function setup(options: Partial<IngestOptions> = {}) {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  let clock = 1_000_000;
  const ingest = createIngest({
    fleet: FLEET_DEFAULTS,
    root: ROOT,
    maxPayloadBytes: 4096,
    logger,
    now: () => clock,
    ...options,
  });
  return {
    ingest,
    logs,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
    telemetry: (id: string, session: number, seq: number, extra: { cpu?: number; disk?: number } = {}) =>
      ingest.handle(
        topics.telemetry(id),
        encode("telemetry", telemetry({ session, seq, timeMs: clock, ...extra })),
      ),
  };
}

describe("ingest.handle", () => {
  it("applies births, statuses and telemetry to fleet state and history", () => {
    const s = setup();
    s.ingest.handle(topics.birth("a"), encode("birth", birth({ nodeId: "a", session: 1, intervalMs: 1000 })));
    s.ingest.handle(topics.nodeStatus("a"), encode("nodeStatus", status("online", 1)));
    s.telemetry("a", 1, 1, { cpu: 12 });
    s.advance(1000);
    s.telemetry("a", 1, 2, { cpu: 14, disk: 63 });
    const node = s.ingest.fleet.nodes.get("a");
    expect(node?.birth?.intervalMs).toBe(1000);
    expect(node?.latest?.cpuPercent).toBe(14);
    expect(node && nodeHealth(s.ingest.fleet, node, s.now())).toBe(NodeHealth.ONLINE);
    expect(s.ingest.history.get("a")?.window("cpu", s.now(), 300_000)).toMatchObject({
      min: 12,
      max: 14,
      samples: 2,
    });
    // Fullest filesystem and the default interface's (eth0) rates go into the history too.
    const h = s.ingest.history.get("a");
    expect(h?.window("disk", s.now(), 300_000)).toMatchObject({ min: 41, max: 63, samples: 2 });
    expect(h?.window("rx", s.now(), 300_000)).toMatchObject({ min: 12_000, max: 12_000 });
    expect(h?.window("tx", s.now(), 300_000)).toMatchObject({ min: 3_400, max: 3_400 });
    expect(s.ingest.counters()).toEqual({
      received: 4,
      decoded: 4,
      cleared: 0,
      duplicates: 0,
      gaps: 0,
      rejected: {},
    });
  });

  it("counts duplicates and gaps, and keeps them out of history", () => {
    const s = setup();
    s.telemetry("a", 1, 1);
    s.telemetry("a", 1, 1);
    s.telemetry("a", 1, 4);
    expect(s.ingest.counters()).toMatchObject({ received: 3, decoded: 3, duplicates: 1, gaps: 2 });
    expect(s.ingest.history.get("a")?.window("cpu", s.now(), 3_600_000).samples).toBe(2);
  });

  it.each([
    ["bad_topic", "elsewhere/node/a/telemetry", encode("telemetry", telemetry({ session: 1, seq: 1 }))],
    ["bad_topic", `${ROOT}/node/a/metrics`, new Uint8Array([1])],
    ["bad_node_id", `${ROOT}/node/a+b/telemetry`, encode("telemetry", telemetry({ session: 1, seq: 1 }))],
    ["bad_node_id", `${ROOT}/node/a/b/telemetry`, new Uint8Array()],
    ["decode_error", topics.telemetry("a"), new Uint8Array([0xff, 0xff, 0xff, 0xff])],
    ["decode_error", topics.birth("a"), truncated(encode("birth", birth({ nodeId: "a", session: 1 })), 1)],
    [
      "decode_error",
      topics.telemetry("a"),
      truncated(encode("telemetry", telemetry({ session: 1, seq: 1 })), 10),
    ],
    ["decode_error", topics.nodeStatus("a"), new TextEncoder().encode('{"state":"online"}')],
    ["oversized", topics.telemetry("a"), new Uint8Array(4097)],
    ["oversized", topics.birth("a"), new Uint8Array(5000)],
    ["invalid", topics.telemetry("a"), encode("telemetry", telemetry({ session: 1, seq: 0 }))],
    ["invalid", topics.telemetry("a"), encode("telemetry", telemetry({ session: 0, seq: 1 }))],
    ["invalid", topics.birth("a"), encode("birth", birth({ nodeId: "b", session: 1 }))],
    ["invalid", topics.nodeStatus("a"), encode("nodeStatus", status("online", 0))],
  ])("rejects %s: %s", (reason, topic, payload) => {
    const s = setup();
    expect(() => s.ingest.handle(topic, payload)).not.toThrow();
    expect(s.ingest.counters().rejected).toEqual({ [reason]: 1 });
    expect(s.ingest.fleet.nodes.size).toBe(0);
    // The next valid message is applied as if nothing happened.
    s.telemetry("a", 1, 1);
    expect(s.ingest.fleet.nodes.get("a")?.received).toBe(1);
  });

  it("ignores the coordinator's own topics without counting them as errors", () => {
    const s = setup();
    s.ingest.handle(topics.report, new Uint8Array([1, 2, 3]));
    s.ingest.handle(topics.coordinatorStatus, new Uint8Array([1, 2, 3]));
    expect(s.ingest.counters()).toMatchObject({ received: 2, decoded: 0, rejected: {} });
  });

  it("stops accepting new node ids at the node limit", () => {
    const s = setup({ maxNodes: 2 });
    s.telemetry("a", 1, 1);
    s.telemetry("b", 1, 1);
    s.telemetry("c", 1, 1);
    s.telemetry("a", 1, 2);
    expect([...s.ingest.fleet.nodes.keys()]).toEqual(["a", "b"]);
    expect(s.ingest.counters().rejected).toEqual({ node_limit: 1 });
  });

  it("logs a rejection at most once per node per interval, with the count it suppressed", () => {
    const s = setup({ rejectLogIntervalMs: 60_000 });
    const garbage = new Uint8Array([0xff, 0xff]);
    for (let i = 0; i < 100; i++) s.ingest.handle(topics.telemetry("a"), garbage);
    for (let i = 0; i < 100; i++) s.ingest.handle(topics.telemetry("b"), garbage);
    expect(s.logs.map((l) => [l.msg, l.reason, l.topic])).toEqual([
      ["telemetry message rejected", "decode_error", topics.telemetry("a")],
      ["telemetry message rejected", "decode_error", topics.telemetry("b")],
    ]);
    s.advance(60_000);
    s.ingest.handle(topics.telemetry("a"), garbage);
    expect(s.logs).toHaveLength(3);
    expect(s.logs[2]).toMatchObject({ reason: "decode_error", suppressed: 99 });
    expect(s.ingest.counters().rejected).toEqual({ decode_error: 201 });
  });

  it("caps rejection logs per interval however many distinct topics misbehave", () => {
    const s = setup({ rejectLogIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) s.ingest.handle(`${ROOT}/node/n${i}/bogus`, new Uint8Array());
    expect(s.logs).toHaveLength(100);
    expect(s.ingest.counters().rejected).toEqual({ bad_topic: 1000 });
  });

  it("rebuilds a node offline from retained birth + Will on restart, in either order", () => {
    for (const order of [
      ["birth", "status"],
      ["status", "birth"],
    ]) {
      const s = setup();
      for (const kind of order) {
        if (kind === "birth")
          s.ingest.handle(topics.birth("a"), encode("birth", birth({ nodeId: "a", session: 3 })));
        else s.ingest.handle(topics.nodeStatus("a"), encode("nodeStatus", status("offline", 3)));
      }
      const node = s.ingest.fleet.nodes.get("a");
      expect(node && nodeHealth(s.ingest.fleet, node, s.now())).toBe(NodeHealth.OFFLINE);
    }
  });
});

describe("ingest: two installs claiming one node id", () => {
  it("refuses the second install's birth, then drops its status and its telemetry, and tells fleet-service", () => {
    const conflicts: unknown[] = [];
    const s = setup({ onConflict: (c) => conflicts.push(c) });
    const claim = (installId: string, session: number) =>
      s.ingest.handle(
        topics.birth("pi"),
        encode("birth", birth({ nodeId: "pi", session, intervalMs: 1000, timeMs: s.now(), installId })),
      );
    claim("first", 5);
    s.telemetry("pi", 5, 1);
    claim("second", 9);
    expect(conflicts).toEqual([{ nodeId: "pi", holderInstallId: "first", rejectedInstallId: "second" }]);
    s.ingest.handle(topics.nodeStatus("pi"), encode("nodeStatus", status("offline", 9, s.now(), "second")));
    s.telemetry("pi", 9, 1);
    s.telemetry("pi", 5, 2);
    const node = s.ingest.fleet.nodes.get("pi");
    expect(node).toMatchObject({ session: 5n, installId: "first", idConflicts: 1, offline: false });
    expect(node?.current.highest).toBe(2);
    expect(s.ingest.counters().rejected).toEqual({ id_conflict: 2 });
    expect(s.ingest.idConflicts()).toBe(1);
  });

  it("forgets a node whose retained birth or status is deleted (an empty retained message)", () => {
    const s = setup();
    s.ingest.handle(topics.birth("gone"), encode("birth", birth({ nodeId: "gone", session: 1 })));
    expect(s.ingest.fleet.nodes.has("gone")).toBe(true);
    s.ingest.handle(topics.birth("gone"), new Uint8Array(0));
    expect(s.ingest.fleet.nodes.has("gone")).toBe(false);
    expect(s.ingest.counters().rejected).toEqual({});
  });
});
