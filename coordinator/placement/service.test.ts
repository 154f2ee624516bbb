// The scheduling service as the coordinator composes it, on a real fleet state, a fake MQTT link and an
// injected clock: what a request sees is what the fleet knows at that moment.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { DecisionStatus, encode, NodeHealth, type ScheduleDecision, topicsFor } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, telemetry } from "../../test/support/fleet-messages.ts";
import { scheduleRequest } from "../../test/support/placement.ts";
import { testSchedulingSettings } from "../../test/support/scheduling-settings.ts";
import { applyBirth, applyTelemetry, createFleet, nodeFor, nodeHealth } from "../fleet/state.ts";
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
