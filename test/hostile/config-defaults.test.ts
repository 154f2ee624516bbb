// The broker bounds of issue 12 have defaults in code (for startEmbeddedBroker / startSecuredBroker callers)
// and in the config schema (for the CLI, which must not import the broker into the agent). They must agree.
import { describe, expect, it } from "vitest";
import { configSchema } from "../../cli/config/schema.ts";
import { DEFAULT_CHECK_GATE } from "../../coordinator/broker/auth/check-gate.ts";
import { DEFAULT_CONNECTIONS } from "../../coordinator/broker/broker.ts";
import { DEFAULT_QUEUE_BOUNDS } from "../../coordinator/broker/offline-queues.ts";

describe("broker bound defaults", () => {
  it("are the same in the config schema and in the code", () => {
    const { broker } = configSchema.parse({});
    expect({
      maxConnectBytes: broker.maxConnectBytes,
      maxPendingPerAddress: broker.maxPendingPerAddress,
      maxConnections: broker.maxConnections,
      connectRatePerAddress: broker.maxConnectRatePerAddress,
      connectTimeoutMs: broker.connectTimeout,
    }).toEqual(DEFAULT_CONNECTIONS);
    expect({
      maxMessages: broker.maxQueuedMessages,
      maxBytes: broker.maxQueuedBytes,
      maxRetainedBytes: broker.maxRetainedBytes,
    }).toEqual(DEFAULT_QUEUE_BOUNDS);
    expect([broker.authConcurrency, broker.authQueue]).toEqual([
      DEFAULT_CHECK_GATE.concurrency,
      DEFAULT_CHECK_GATE.maxQueued,
    ]);
  });
});
