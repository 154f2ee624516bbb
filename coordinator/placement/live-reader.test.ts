import { describe, expect, it } from "vitest";
import { NodeHealth } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { liveByNodeName } from "../fleet/live.ts";
import { applyBirth, applyStatus, applyTelemetry, createFleet, nodeFor, nodeHealth } from "../fleet/state.ts";
import { createLiveReader } from "./live-reader.ts";

describe("live reader", () => {
  it("reads what liveByNodeName says, at any time, for every node", () => {
    const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: 1000 });
    const at = 1_000_000;
    const join = (id: string, k8s: string, cpu: number, sentAt: number) => {
      const node = nodeFor(fleet, id, at);
      applyBirth(node, { ...birth({ session: 1, nodeId: id, timeMs: at }), k8sNodeName: k8s }, at);
      applyTelemetry(fleet, node, telemetry({ session: 1, seq: 1, cpu, timeMs: sentAt }), sentAt);
    };
    join("a", "node-a", 10, at);
    join("b1", "node-b", 20, at); // two agents claim node-b: the fresher one speaks for it
    join("b2", "node-b", 70, at + 500);
    applyBirth(nodeFor(fleet, "quiet", at), birth({ session: 1, nodeId: "quiet", timeMs: at }), at);
    join("gone", "gone", 5, at);
    applyStatus(nodeFor(fleet, "gone", at), status("offline", 1, at), at);

    const reader = createLiveReader(fleet);
    for (const now of [at + 600, at + 2_999, at + 20_000]) {
      const expected = liveByNodeName(fleet, now);
      const read = reader.at(now);
      for (const [name, signals] of expected) {
        const { agentId, ageMs: _, ...rest } = signals;
        const agent = fleet.nodes.get(agentId);
        if (agent === undefined) throw new Error(agentId);
        // The age is the fleet's silence, so the engine's stale is the report's STALE.
        const silence = now - Math.max(agent.lastTelemetryAtMs ?? Number.NEGATIVE_INFINITY, agent.aliveAtMs);
        expect(read(name), `${name} at ${now}`).toEqual({ ...rest, ageMs: silence });
        const stale = silence > fleet.options.staleAfterIntervals * rest.intervalMs;
        expect(stale || !rest.online, `${name} at ${now}`).toBe(
          nodeHealth(fleet, agent, now) !== NodeHealth.ONLINE,
        );
      }
      expect(read("nobody")).toBeUndefined();
    }
    expect(reader.at(at + 600)("node-b")?.cpuPercent).toBe(70);

    // A new agent is seen without a reset; a renamed one after it.
    join("c", "node-c", 30, at + 700);
    expect(reader.at(at + 800)("node-c")?.cpuPercent).toBe(30);
    applyBirth(
      nodeFor(fleet, "c", at),
      { ...birth({ session: 1, nodeId: "c", timeMs: at }), k8sNodeName: "node-d" },
      at,
    );
    reader.reset();
    expect(reader.at(at + 800)("node-d")?.cpuPercent).toBe(30);
    expect(reader.at(at + 800)("node-c")).toBeUndefined();
  });
});
