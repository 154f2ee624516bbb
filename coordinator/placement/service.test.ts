// The scheduling service as the coordinator composes it, on a real fleet state, a fake MQTT link and an
// injected clock: what a request sees is what the fleet knows at that moment.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { DecisionStatus, encode, NodeHealth, type ScheduleDecision, topicsFor } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { scheduleRequest } from "../../test/support/placement.ts";
import { testSchedulingSettings } from "../../test/support/scheduling-settings.ts";
import { applyBirth, applyStatus, applyTelemetry, createFleet, nodeFor, nodeHealth } from "../fleet/state.ts";
import { type SchedulingLink, startScheduling } from "./service.ts";

const root = topicsFor().root;
const topics = topicsFor(root);

/** A link that hands requests straight to the service and keeps the decisions it publishes. */
function fakeLink() {
  let handler: ((topic: string, payload: Buffer, retained: boolean) => void) | undefined;
  const decisions: ScheduleDecision[] = [];
  const link: SchedulingLink = {
    connected: false,
    subscribe: async () => {},
    onMessage: (h) => {
      handler = h;
    },
    publish: async (_kind, _topic, message) => {
      decisions.push(message);
    },
    on: () => link,
    off: () => link,
  };
  const send = (payload: Uint8Array) => handler?.(topics.scheduleRequest, Buffer.from(payload), false);
  return { link, decisions, send };
}

/** Fake timers: the service's prune timer never fires within a test. */
const timers = {
  setTimeout: () => 0,
  clearTimeout: () => {},
};

describe("scheduling service: one definition of stale", () => {
  it.each([
    [100, 3],
    [1000, 5],
  ])(
    "never calls a node stale that the fleet calls ONLINE (%d ms interval, stale after %d, snapshot kept 10 s)",
    async (intervalMs, staleAfterIntervals) => {
      let clock = 1_000_000;
      const now = () => clock;
      const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: intervalMs, staleAfterIntervals });
      const nodes = Array.from({ length: 5 }, (_, i) => `edge-${i}`);
      const seq = new Map<string, number>();
      const sample = () => {
        for (const id of nodes) {
          const n = (seq.get(id) ?? 0) + 1;
          seq.set(id, n);
          applyTelemetry(
            fleet,
            nodeFor(fleet, id, clock),
            telemetry({ session: 1, seq: n, timeMs: clock }),
            clock,
          );
        }
      };
      for (const id of nodes) {
        applyBirth(
          nodeFor(fleet, id, clock),
          birth({ session: 1, nodeId: id, intervalMs, timeMs: clock }),
          clock,
        );
      }
      sample();
      const { link, decisions, send } = fakeLink();
      const service = await startScheduling({
        settings: testSchedulingSettings({ snapshotMaxAgeMs: 10_000 }),
        link,
        onNodeMessage: () => {},
        topicRoot: root,
        fleet,
        now,
        timers,
        logger: pino({ level: "silent" }),
      });
      try {
        // Every agent reports each interval; a dry run every two intervals, over 25 requests.
        for (let request = 0; request < 25; request++) {
          for (let tick = 0; tick < 2; tick++) {
            clock += intervalMs;
            sample();
          }
          for (const id of nodes) {
            expect(nodeHealth(fleet, fleet.nodes.get(id) as never, clock)).toBe(NodeHealth.ONLINE);
          }
          send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
          await service.idle();
        }
        expect(decisions.map((d) => d.message).filter((m) => m.includes("stale"))).toEqual([]);
        expect(decisions.map((d) => d.status)).toEqual(Array(25).fill(DecisionStatus.SCHEDULED));
        expect(service.snapshotBuilds()).toBeLessThan(25); // the snapshot is still reused

        // And a node that stops reporting is stale for the scheduler exactly when it is for the report.
        clock += staleAfterIntervals * intervalMs; // not yet stale: stale is "more than"
        send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
        await service.idle();
        expect(decisions.at(-1)?.status).toBe(DecisionStatus.SCHEDULED);
        clock += 1;
        expect(nodeHealth(fleet, fleet.nodes.get("edge-0") as never, clock)).toBe(NodeHealth.STALE);
        send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
        await service.idle();
        expect(decisions.at(-1)?.message).toBe(
          "0/5 nodes are available: 5 node(s) had stale agent telemetry.",
        );
      } finally {
        await service.stop();
      }
    },
  );
});

describe("scheduling service: telemetry reaches the next decision", () => {
  it("a sample that arrives between two decisions counts in the second, though the first sample was fresh", async () => {
    let clock = 1_000_000;
    const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: 10_000 });
    const nodes = ["edge-0", "edge-1"];
    const seq = new Map<string, number>();
    const report = (id: string, cpu: number) => {
      const n = (seq.get(id) ?? 0) + 1;
      seq.set(id, n);
      applyTelemetry(
        fleet,
        nodeFor(fleet, id, clock),
        telemetry({ session: 1, seq: n, timeMs: clock, cpu }),
        clock,
      );
    };
    for (const id of nodes) {
      applyBirth(
        nodeFor(fleet, id, clock),
        birth({ session: 1, nodeId: id, intervalMs: 10_000, timeMs: clock }),
        clock,
      );
      report(id, 10);
    }
    let tap: ((topic: string, payload: Buffer) => void) | undefined;
    const { link, decisions, send } = fakeLink();
    const service = await startScheduling({
      settings: testSchedulingSettings({ snapshotMaxAgeMs: 60_000 }),
      link,
      onNodeMessage: (handler) => {
        tap = handler;
      },
      topicRoot: root,
      fleet,
      now: () => clock,
      timers,
      logger: pino({ level: "silent" }),
    });
    try {
      send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
      await service.idle();
      expect(decisions.at(-1)?.status).toBe(DecisionStatus.SCHEDULED);
      // One second later edge-0 reports 99 % CPU: the coordinator applies it, then taps the message.
      clock += 1000;
      report("edge-0", 99);
      tap?.(topics.telemetry("edge-0"), Buffer.alloc(0));
      send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
      await service.idle();
      expect(decisions.at(-1)?.node).toBe("edge-1");
      expect(decisions.at(-1)?.rejections.map((r) => [r.node, r.reason])).toEqual([
        ["edge-0", "node(s) had cpu pressure"],
      ]);
      expect(service.snapshotBuilds()).toBe(1);
      // edge-1's agent says it is going away (its Will): offline for the next decision, still no rebuild.
      clock += 1000;
      applyStatus(fleet.nodes.get("edge-1") as never, status("offline", 1, clock), clock);
      tap?.(topics.nodeStatus("edge-1"), Buffer.alloc(0));
      send(encode("scheduleRequest", scheduleRequest(root, "cli", { dryRun: true })));
      await service.idle();
      expect(decisions.at(-1)?.rejections.map((r) => [r.node, r.reason])).toEqual([
        ["edge-0", "node(s) had cpu pressure"],
        ["edge-1", "node(s) had an offline agent"],
      ]);
      expect(service.snapshotBuilds()).toBe(1);
    } finally {
      await service.stop();
    }
  });
});
