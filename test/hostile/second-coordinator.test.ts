// A second coordinator started on the same topic root by mistake, and stopped within seconds (a failed start,
// a test run), leaves its retained OFFLINE status. The running coordinator used to ignore a replacement that
// came within 5 s of its last re-announcement, for good: every agent then buffered its telemetry and the
// whole fleet read offline until the coordinator restarted. It now re-announces when the 5 s are up.
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../coordinator/broker/broker.ts";
import { startCoordinator } from "../../coordinator/fleet/fleet-service.ts";
import {
  type CoordinatorStatus,
  createMessage,
  decode,
  encode,
  PeerState,
  timestamp,
  topicsFor,
} from "../../proto/index.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../support/defaults.ts";
import { until } from "../support/until.ts";

const logger = pino({ level: "silent" });
const ROOT = "second/v1";
const topics = topicsFor(ROOT);
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

const statusOf = (instanceId: string, state: PeerState) =>
  Buffer.from(
    encode(
      "coordinatorStatus",
      createMessage("coordinatorStatus", {
        instanceId,
        state,
        version: "0.1.0",
        time: timestamp(Date.now()),
      }),
    ),
  );

describe("a second coordinator that comes and goes", () => {
  it("leaves the running coordinator's ONLINE status retained, not its own OFFLINE", async () => {
    const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
    cleanup.push(() => broker.close());
    const coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      topicRoot: ROOT,
      clientId: "first",
      reportIntervalMs: 60_000,
      logger,
    });
    cleanup.push(() => coordinator.stop());

    let retained: CoordinatorStatus | undefined;
    const seen: CoordinatorStatus[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => watcher.endAsync(true));
    watcher.on("message", (_topic, payload) => {
      const d = decode("coordinatorStatus", payload);
      if (d.ok) {
        retained = d.message;
        seen.push(d.message);
      }
    });
    await watcher.subscribeAsync(topics.coordinatorStatus, { qos: 1 });
    const firstOnline = () => retained?.instanceId.startsWith("first") && retained.state === PeerState.ONLINE;
    await until(firstOnline, 5000, "the first coordinator ONLINE");

    // What `k3s-fleet coordinator` does on the same root: ONLINE when it starts, OFFLINE when it stops.
    const second = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => second.endAsync(true));
    const publish = (state: PeerState) =>
      second.publishAsync(topics.coordinatorStatus, statusOf("second-1", state), { qos: 1, retain: true });
    await publish(PeerState.ONLINE);
    await until(() => seen.some((m) => m.instanceId === "second-1"), 3000, "the second's ONLINE");
    await until(firstOnline, 3000, "the first re-announcing at once");
    await new Promise((r) => setTimeout(r, 300));
    await publish(PeerState.OFFLINE);
    await until(() => seen.at(-1)?.state === PeerState.OFFLINE, 3000, "the second's OFFLINE");
    // Within the 5 s re-announcement interval and a little more.
    await until(firstOnline, 9000, () => `the first ONLINE again, retained: ${retained?.instanceId}`);
    expect(retained?.instanceId).toMatch(/^first-/);
  });
});
