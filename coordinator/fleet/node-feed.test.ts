// The embedded broker's in-process feed: node messages reach ingest without the coordinator subscribing
// to them over MQTT, retained ones included, Wills included, each exactly once.
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { encode, NodeHealth, topicsFor } from "../../proto/index.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { startEmbeddedBroker } from "../broker/broker.ts";
import { startCoordinator } from "./fleet-service.ts";
import { aedesNodeFeed } from "./node-feed.ts";

const logger = pino({ level: "silent" });
const ROOT = "feed/v1";
const topics = topicsFor(ROOT);
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function setup() {
  const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
  cleanup.push(() => broker.close());
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    clientId: "agent-n1",
    reconnectPeriod: 0,
    will: {
      topic: topics.nodeStatus("n1"),
      payload: Buffer.from(encode("nodeStatus", status("offline", 1))),
      qos: 1,
      retain: true,
    },
  });
  cleanup.push(() => client.endAsync(true));
  const send = (topic: string, payload: Uint8Array, retain = false) =>
    client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain });
  return { broker, client, send };
}

async function coordinatorWithFeed(broker: Awaited<ReturnType<typeof setup>>["broker"]) {
  const coordinator = await startCoordinator({
    ...COORDINATOR_DEFAULTS,
    brokerUrl: broker.url,
    topicRoot: ROOT,
    clientId: "feed-coordinator",
    logger,
    offlineAfterIntervals: 0,
    nodeFeed: aedesNodeFeed(broker.aedes),
  });
  cleanup.push(() => coordinator.stop());
  return coordinator;
}

it("applies retained births from before the start, then live telemetry, each once", async () => {
  const { broker, send } = await setup();
  await send(
    topics.birth("n1"),
    encode("birth", birth({ nodeId: "n1", session: 1, timeMs: Date.now() })),
    true,
  );
  await send(topics.nodeStatus("n1"), encode("nodeStatus", status("online", 1, Date.now())), true);
  const coordinator = await coordinatorWithFeed(broker);
  expect(coordinator.fleet.nodes.get("n1")?.birth?.session).toBe(1n);

  const tapped: string[] = [];
  coordinator.onNodeMessage((topic) => tapped.push(topic));
  for (let seq = 1; seq <= 5; seq++) {
    await send(
      topics.telemetry("n1"),
      encode("telemetry", telemetry({ session: 1, seq, timeMs: Date.now() })),
    );
  }
  // The publisher's PUBACK comes after every in-process subscriber is done: applied by now, no waiting.
  const node = coordinator.buildReportNow().nodes.find((n) => n.nodeId === "n1");
  expect(node).toMatchObject({ received: 5n, duplicates: 0n, gaps: 0n, health: NodeHealth.ONLINE });
  expect(coordinator.counters().received).toBe(7); // birth + status + 5 samples: nothing twice
  expect(tapped).toEqual(Array(5).fill(topics.telemetry("n1")));
});

it("applies the Will the broker publishes when a node's socket dies", async () => {
  const { broker, client, send } = await setup();
  const coordinator = await coordinatorWithFeed(broker);
  await send(
    topics.birth("n1"),
    encode("birth", birth({ nodeId: "n1", session: 1, timeMs: Date.now() })),
    true,
  );
  await send(
    topics.telemetry("n1"),
    encode("telemetry", telemetry({ session: 1, seq: 1, timeMs: Date.now() })),
  );
  client.stream.destroy();
  await expect
    .poll(() => coordinator.buildReportNow().nodes.find((n) => n.nodeId === "n1")?.health, { timeout: 5000 })
    .toBe(NodeHealth.OFFLINE);
  expect(coordinator.fleet.nodes.get("n1")?.offline).toBe(true);
});

it("stops feeding when the coordinator stops", async () => {
  const { broker, send } = await setup();
  const coordinator = await coordinatorWithFeed(broker);
  await send(
    topics.telemetry("n1"),
    encode("telemetry", telemetry({ session: 1, seq: 1, timeMs: Date.now() })),
  );
  expect(coordinator.counters().received).toBe(1);
  await coordinator.stop();
  await send(
    topics.telemetry("n1"),
    encode("telemetry", telemetry({ session: 1, seq: 2, timeMs: Date.now() })),
  );
  expect(coordinator.counters().received).toBe(1);
});
