// When the buffered outbox may send: the link is up and announced, and the coordinator is there to hear it.
// Pure: the coordinator's retained status (`{root}/coordinator/status`) and a monotonic `now` in, a new gate
// out. A sample the broker acknowledged is only as safe as the subscriber behind the broker, so a
// coordinator that goes away (or is replaced) is a `fault`: what was acknowledged just before may be lost.

export type CoordinatorPresence = "unknown" | "online" | "offline";

export interface GatePolicy {
  /** true: send only while the coordinator's status says ONLINE; false: send unless it says OFFLINE. */
  waitForCoordinator: boolean;
  /**
   * A coordinator instance that has just come online may not have subscribed yet (it announces, then
   * subscribes); its telemetry waits this long, counted from the status's own time.
   */
  settleMs: number;
}

export interface Gate {
  readonly coordinator: CoordinatorPresence;
  /** Instance id of the coordinator last seen online; "" before the first. */
  readonly instanceId: string;
  /** Monotonic ms from which that instance counts as listening. */
  readonly listeningAtMs: number;
}

export const INITIAL_GATE: Gate = { coordinator: "unknown", instanceId: "", listeningAtMs: 0 };

export interface StatusSeen {
  online: boolean;
  instanceId: string;
  /** Agent wall clock minus the status's timestamp; clocks may disagree, so it is only a hint. */
  ageMs: number;
}

export function gateOpen(gate: Gate, policy: GatePolicy, linkReady: boolean, nowMs: number): boolean {
  if (!linkReady) return false;
  switch (gate.coordinator) {
    case "offline":
      return false;
    case "unknown":
      return !policy.waitForCoordinator;
    case "online":
      return nowMs >= gate.listeningAtMs;
  }
}

/** A new connection: the status is unknown until the retained one arrives; the instance is remembered. */
export function gateOnConnect(gate: Gate): Gate {
  return { ...gate, coordinator: "unknown" };
}

/** Applies a coordinator status; `fault` when what was acknowledged recently may not have reached it. */
export function gateOnStatus(
  gate: Gate,
  status: StatusSeen,
  policy: GatePolicy,
  nowMs: number,
): { gate: Gate; fault: boolean } {
  if (!status.online) {
    return { gate: { ...gate, coordinator: "offline" }, fault: gate.coordinator !== "offline" };
  }
  if (status.instanceId !== "" && status.instanceId === gate.instanceId) {
    // The same process again (its link reconnected): it resubscribes before it announces.
    return { gate: { ...gate, coordinator: "online" }, fault: false };
  }
  const wait = Math.min(policy.settleMs, Math.max(0, policy.settleMs - status.ageMs));
  return {
    gate: { coordinator: "online", instanceId: status.instanceId, listeningAtMs: nowMs + wait },
    // Replaced while we thought the old one online: its Will never reached us.
    fault: gate.coordinator === "online",
  };
}
