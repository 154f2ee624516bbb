import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { SecuredBroker } from "../broker/embedded.ts";
import { registerBrokerMetrics } from "./broker-metrics.ts";

describe("registerBrokerMetrics", () => {
  it("exposes the broker's refusals, closed connections and queue drops by reason, growing only", async () => {
    const counts = {
      refused: { auth_busy: 3, bad_password: 1 } as Record<string, number>,
      closed: { connect_too_large: 2 } as Record<string, number>,
      dropped: { queue_full_messages: 40 } as Record<string, number>,
    };
    // Only the counters registerBrokerMetrics reads.
    const broker = {
      refusals: () => counts.refused,
      broker: { connectionRefusals: () => counts.closed, queueDrops: () => counts.dropped },
    } as unknown as SecuredBroker;
    const registry = new Registry();
    registerBrokerMetrics(registry, broker);
    const first = await registry.metrics();
    expect(first).toMatch(/^k3sfleet_broker_refused_total\{reason="auth_busy"\} 3$/m);
    expect(first).toMatch(/^k3sfleet_broker_refused_total\{reason="bad_password"\} 1$/m);
    expect(first).toMatch(/^k3sfleet_broker_connections_closed_total\{reason="connect_too_large"\} 2$/m);
    expect(first).toMatch(/^k3sfleet_broker_queue_dropped_total\{reason="queue_full_messages"\} 40$/m);
    counts.refused.auth_busy = 10;
    expect(await registry.metrics()).toMatch(/^k3sfleet_broker_refused_total\{reason="auth_busy"\} 10$/m);
  });
});
