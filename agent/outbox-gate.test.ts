import { describe, expect, it } from "vitest";
import {
  type Gate,
  type GatePolicy,
  gateOnConnect,
  gateOnStatus,
  gateOpen,
  INITIAL_GATE,
} from "./outbox-gate.ts";

const waiting: GatePolicy = { waitForCoordinator: true, settleMs: 1000 };
const eager: GatePolicy = { waitForCoordinator: false, settleMs: 1000 };
const online = (instanceId: string, ageMs = 0) => ({ online: true, instanceId, ageMs });
const offline = (instanceId = "") => ({ online: false, instanceId, ageMs: 0 });

describe("outbox gate", () => {
  it.each([
    ["link down", INITIAL_GATE, waiting, false, 0, false],
    ["status unknown, waiting for the coordinator", INITIAL_GATE, waiting, true, 0, false],
    ["status unknown, not waiting", INITIAL_GATE, eager, true, 0, true],
    ["coordinator offline", { ...INITIAL_GATE, coordinator: "offline" }, eager, true, 0, false],
    [
      "online, settling",
      { coordinator: "online", instanceId: "a", listeningAtMs: 500 },
      waiting,
      true,
      499,
      false,
    ],
    [
      "online, settled",
      { coordinator: "online", instanceId: "a", listeningAtMs: 500 },
      waiting,
      true,
      500,
      true,
    ],
  ] as const)("%s", (_, gate, policy, linkReady, now, open) => {
    expect(gateOpen(gate as Gate, policy, linkReady, now)).toBe(open);
  });

  it("lets a new coordinator instance settle, counted from its own timestamp", () => {
    // Just announced (age 0): wait the whole settle time.
    expect(gateOnStatus(INITIAL_GATE, online("a", 0), waiting, 100).gate).toEqual({
      coordinator: "online",
      instanceId: "a",
      listeningAtMs: 1100,
    });
    // A retained status from long ago: it has been listening for a while.
    expect(gateOnStatus(INITIAL_GATE, online("a", 60_000), waiting, 100).gate.listeningAtMs).toBe(100);
    // A clock running behind the coordinator's (negative age) never waits more than the settle time.
    expect(gateOnStatus(INITIAL_GATE, online("a", -5_000), waiting, 100).gate.listeningAtMs).toBe(1100);
  });

  it("keeps a known instance settled across the agent's reconnects and the coordinator's", () => {
    let gate = gateOnStatus(INITIAL_GATE, online("a"), waiting, 0).gate;
    gate = gateOnConnect(gate);
    expect(gate.coordinator).toBe("unknown");
    expect(gateOpen(gate, waiting, true, 5_000)).toBe(false);
    const again = gateOnStatus(gate, online("a"), waiting, 5_000);
    expect(again).toEqual({
      gate: { coordinator: "online", instanceId: "a", listeningAtMs: 1000 },
      fault: false,
    });
    // The same instance back after its own link dropped (Will seen): it resubscribes before it announces.
    const dropped = gateOnStatus(again.gate, offline("a"), waiting, 6_000);
    expect(dropped.fault).toBe(true);
    const back = gateOnStatus(dropped.gate, online("a"), waiting, 7_000);
    expect(back.fault).toBe(false);
    expect(gateOpen(back.gate, waiting, true, 7_000)).toBe(true);
  });

  it.each([
    [
      "online → offline (its Will)",
      { coordinator: "online", instanceId: "a", listeningAtMs: 0 },
      offline("a"),
      true,
    ],
    ["unknown → offline", INITIAL_GATE, offline(), true],
    ["offline → offline", { ...INITIAL_GATE, coordinator: "offline" }, offline(), false],
    [
      "online → another instance (missed Will)",
      { coordinator: "online", instanceId: "a", listeningAtMs: 0 },
      online("b"),
      true,
    ],
    ["unknown → online", INITIAL_GATE, online("a"), false],
    [
      "offline → new instance",
      { coordinator: "offline", instanceId: "a", listeningAtMs: 0 },
      online("b"),
      false,
    ],
  ] as const)("fault on %s: %s", (_, gate, status, fault) => {
    expect(gateOnStatus(gate as Gate, status, waiting, 0).fault).toBe(fault);
  });
});
