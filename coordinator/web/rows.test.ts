import { describe, expect, it } from "vitest";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { applyBirth, applyStatus, applyTelemetry, createFleet, nodeFor } from "../fleet/state.ts";
import { countStates, diffRows, type FleetRow, FleetRowsBuilder, fleetRows, StateClock } from "./rows.ts";

const INTERVAL = 1000;

function fleetWith(ids: string[], at: number) {
  const fleet = createFleet({
    defaultIntervalMs: INTERVAL,
    staleAfterIntervals: 3,
    offlineAfterIntervals: 10,
  });
  for (const id of ids) {
    const node = nodeFor(fleet, id, at);
    applyBirth(node, birth({ session: 1, nodeId: id, intervalMs: INTERVAL, timeMs: at }), at);
    applyTelemetry(fleet, node, telemetry({ session: 1, seq: 1, cpu: 12.34, memory: 50, timeMs: at }), at);
  }
  return fleet;
}

describe("fleet rows", () => {
  it("shows each node's figures rounded, its labels and Kubernetes node, and pods when a cluster is known", () => {
    const fleet = fleetWith(["a", "b"], 10_000);
    const rows = fleetRows(fleet, 10_500, new StateClock(), new Map([["a", 3]]));
    const a = rows.get("a");
    expect(a).toMatchObject({
      id: "a",
      host: "a",
      state: "online",
      cpu: 12.3,
      mem: 50,
      k8s: "a",
      pods: 3,
      seen: 10_000,
    });
    expect(a?.labels).toEqual({ zone: "edge-1" });
    expect(rows.get("b")?.pods).toBe(0);
    expect(fleetRows(fleet, 10_500, new StateClock()).get("a")?.pods).toBeNull();
  });

  it("times states: estimated on first sight, then from the tick that saw the change", () => {
    const fleet = fleetWith(["a"], 10_000);
    const clock = new StateClock();
    expect(fleetRows(fleet, 10_500, clock).get("a")).toMatchObject({ state: "online", since: 10_000 });
    // Silent past 3 intervals: stale, first seen at 14 000 but stale since 13 000 (the threshold).
    expect(fleetRows(fleet, 14_000, clock).get("a")).toMatchObject({ state: "stale", since: 13_000 });
    expect(fleetRows(fleet, 15_000, clock).get("a")).toMatchObject({ state: "stale", since: 13_000 });
    // Its Will: offline from the tick that saw it.
    applyStatus(fleet.nodes.get("a") as never, status("offline", 1, 15_500), 15_500);
    expect(fleetRows(fleet, 16_000, clock).get("a")).toMatchObject({ state: "offline", since: 16_000 });
    // A fresh clock estimates a silent node's offline time from its last sign of life.
    const silent = fleetWith(["s"], 10_000);
    expect(fleetRows(silent, 30_000, new StateClock()).get("s")).toMatchObject({
      state: "offline",
      since: 20_000,
    });
  });

  it("counts by state", () => {
    const fleet = fleetWith(["a", "b", "c"], 10_000);
    applyTelemetry(
      fleet,
      fleet.nodes.get("a") as never,
      telemetry({ session: 1, seq: 2, timeMs: 14_000 }),
      14_000,
    );
    applyTelemetry(
      fleet,
      fleet.nodes.get("b") as never,
      telemetry({ session: 1, seq: 2, timeMs: 5_000 }),
      5_000,
    );
    applyStatus(fleet.nodes.get("c") as never, status("offline", 1, 14_000), 14_000);
    expect(countStates(fleetRows(fleet, 14_500, new StateClock()).values())).toEqual({
      total: 3,
      online: 1,
      stale: 1,
      offline: 1,
    });
  });

  it("diffs carry only rows whose shown values changed, and ids gone", () => {
    const fleet = fleetWith(["a", "b", "c"], 10_000);
    const clock = new StateClock();
    const before = fleetRows(fleet, 10_100, clock);
    expect(diffRows(before, fleetRows(fleet, 10_200, clock))).toEqual({ upsert: [], remove: [] });
    applyTelemetry(
      fleet,
      fleet.nodes.get("b") as never,
      telemetry({ session: 1, seq: 2, cpu: 12.31, timeMs: 10_300 }),
      10_300,
    );
    fleet.nodes.delete("c");
    const after = fleetRows(fleet, 10_400, clock);
    const delta = diffRows(before, after);
    expect(delta.upsert.map((r) => r.id)).toEqual(["b"]); // last seen moved; cpu rounds to the same 12.3
    expect(delta.remove).toEqual(["c"]);
    const relabelled = new Map(after);
    relabelled.set("a", { ...(after.get("a") as FleetRow), labels: { zone: "edge-2" } });
    expect(diffRows(after, relabelled).upsert.map((r) => r.id)).toEqual(["a"]);
  });
});

describe("rows builder", () => {
  it("rebuilds only nodes with new messages or a new state, and keeps the rest by identity", () => {
    const fleet = fleetWith(["a", "b"], 10_000);
    const builder = new FleetRowsBuilder();
    const first = builder.build(fleet, 10_100);
    applyTelemetry(
      fleet,
      fleet.nodes.get("b") as never,
      telemetry({ session: 1, seq: 2, cpu: 70, timeMs: 10_200 }),
      10_200,
    );
    const second = builder.build(fleet, 10_300);
    expect(second.get("a")).toBe(first.get("a"));
    expect(second.get("b")).not.toBe(first.get("b"));
    expect(second.get("b")?.cpu).toBe(70);
    expect(diffRows(first, second).upsert.map((r) => r.id)).toEqual(["b"]);
    // Time alone turns "a" stale: its row is rebuilt.
    const third = builder.build(fleet, 14_000);
    expect(third.get("a")?.state).toBe("stale");
    expect(third.get("a")).not.toBe(second.get("a"));
  });
});

describe("rows built in slices", () => {
  it("pause between slices and give the same rows as one build", () => {
    const fleet = fleetWith(["a", "b", "c", "d", "e"], 10_000);
    const slices = new FleetRowsBuilder().buildInSlices(fleet, 10_100, undefined, 2);
    let pauses = 0;
    let step = slices.next();
    while (!step.done) {
      pauses++;
      step = slices.next();
    }
    expect(pauses).toBe(2);
    expect([...step.value.values()]).toEqual([...new FleetRowsBuilder().build(fleet, 10_100).values()]);
  });
});
