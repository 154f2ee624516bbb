// Prometheus counters for what the embedded broker refused or dropped (issue 12): CONNECTs refused by
// reason (auth, password-check gate, persistent sessions), connections closed before CONNACK by the
// connection gate, and messages not queued for a persistent session whose queue was full.
import type { Registry } from "prom-client";
import type { SecuredBroker } from "../broker/embedded.ts";
import { mirrorCounter } from "./metrics.ts";

export function registerBrokerMetrics(registry: Registry, broker: SecuredBroker): void {
  const byReason = (counts: Partial<Record<string, number>>) =>
    Object.entries(counts).map(([reason, n]) => [{ reason }, n ?? 0] as [{ reason: string }, number]);
  mirrorCounter(
    registry,
    "k3sfleet_broker_refused_total",
    "Embedded broker: CONNECT, PUBLISH and SUBSCRIBE refused by auth, by reason.",
    ["reason"],
    () => byReason(broker.refusals()),
  );
  mirrorCounter(
    registry,
    "k3sfleet_broker_connections_closed_total",
    "Embedded broker: connections closed before CONNACK by a bound (oversized packet, pending cap, rate).",
    ["reason"],
    () => byReason(broker.broker.connectionRefusals()),
  );
  mirrorCounter(
    registry,
    "k3sfleet_broker_queue_dropped_total",
    "Embedded broker: messages not queued for a persistent session whose queue was full.",
    ["reason"],
    () => byReason(broker.broker.queueDrops()),
  );
}
