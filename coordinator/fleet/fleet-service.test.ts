// Integration: embedded aedes on a real TCP port, the coordinator, and a plain mqtt.js client playing an
// agent (birth, status, telemetry, and a Will), over real sockets.
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { REAL_TIMERS } from "../../common/timers.ts";
import {
  decode,
  encode,
  type FleetReport,
  NodeHealth,
  type NodeReport,
  PeerState,
  topicsFor,
} from "../../proto/index.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { relay } from "../../test/support/tcp-relay.ts";
import { until } from "../../test/support/until.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../broker/broker.ts";
import { type RunningCoordinator, startCoordinator } from "./fleet-service.ts";

const logger = pino({ level: "silent" });
const ROOT = "it/v1";
const topics = topicsFor(ROOT);
const KEEPALIVE_S = 1;
const cleanup: (() => Promise<unknown> | undefined)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()?.catch(() => undefined);
});

interface Stack {
  broker: EmbeddedBroker;
  coordinator: RunningCoordinator;
  reports: FleetReport[];
  node(id: string): NodeReport | undefined;
}

async function stack(): Promise<Stack> {
  const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
  cleanup.push(() => broker.close());
  const reports: FleetReport[] = [];
  const coordinator = await startCoordinator({
    ...COORDINATOR_DEFAULTS,
    brokerUrl: broker.url,
    topicRoot: ROOT,
    clientId: "it-coordinator",
    reportIntervalMs: 100,
    staleAfterIntervals: 3,
    offlineAfterIntervals: 0, // OFFLINE only by the Will, so these tests see the Will at work
    defaultIntervalMs: 500,
    maxPayloadBytes: 2048,
    keepaliveSeconds: KEEPALIVE_S,
    logger,
    onReport: (r) => reports.push(r),
  });
  cleanup.push(() => coordinator.stop());
  return {
    broker,
    coordinator,
    reports,
    node: (id) => coordinator.buildReportNow().nodes.find((n) => n.nodeId === id),
  };
}

/** A fake agent: a bare mqtt.js client with the contract's Will, publishing encoded contract messages. */
async function agent(url: string, nodeId: string, session: number): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    clientId: `agent-${nodeId}-${session}`,
    protocolVersion: 4,
    keepalive: KEEPALIVE_S,
    reconnectPeriod: 0,
    will: {
      topic: topics.nodeStatus(nodeId),
      payload: Buffer.from(encode("nodeStatus", status("offline", session))),
      qos: 1,
      retain: true,
    },
  });
  cleanup.push(() => client.endAsync(true));
  await client.publishAsync(
    topics.birth(nodeId),
    Buffer.from(
      encode(
        "birth",
        birth({ nodeId, session, hostname: `${nodeId}.lan`, intervalMs: 500, timeMs: Date.now() }),
      ),
    ),
    { qos: 1, retain: true },
  );
  await client.publishAsync(
    topics.nodeStatus(nodeId),
    Buffer.from(encode("nodeStatus", status("online", session, Date.now()))),
    { qos: 1, retain: true },
  );
  return client;
}

function sendSample(
  client: MqttClient,
  nodeId: string,
  session: number,
  seq: number,
  cpu = 25.5,
  memory = 45.2,
) {
  return client.publishAsync(
    topics.telemetry(nodeId),
    Buffer.from(encode("telemetry", telemetry({ session, seq, cpu, memory, timeMs: Date.now() }))),
    { qos: 1 },
  );
}

describe("coordinator over a real broker", () => {
  it("shows an agent ONLINE with the values it sent", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 1);
    for (let seq = 1; seq <= 3; seq++) await sendSample(a, "node-a", 1, seq, 20 + seq, 45.2);
    const node = await until(
      () => (s.node("node-a")?.received === 3n ? s.node("node-a") : undefined),
      3000,
      "3 samples",
    );
    expect(node.health).toBe(NodeHealth.ONLINE);
    expect(node.hostname).toBe("node-a.lan");
    expect(node.session).toBe(1n);
    expect(node.cpuPercent).toBeCloseTo(23, 5);
    expect(node.memoryPercent).toBeCloseTo(45.2, 2);
    expect(node.cores).toBe(4);
    expect(node.cpu5m).toMatchObject({ samples: 3, min: 21, max: 23 });
    expect(node.cpu60m).toMatchObject({ samples: 3, min: 21, max: 23 });
    expect(node).toMatchObject({ duplicates: 0n, gaps: 0n, online: true, internet: true });
  });

  it("publishes a retained report and ONLINE status that a late subscriber can decode", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 1);
    await sendSample(a, "node-a", 1, 1, 33);
    await until(() => s.reports.find((r) => r.nodes[0]?.received === 1n), 3000, "a report with the sample");
    await until(() => s.coordinator.counters().reportsPublished > 1, 3000, "a published report");
    const late = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => late.endAsync(true));
    const retained = new Map<string, Buffer>();
    late.on("message", (topic, payload, packet) => packet.retain && retained.set(topic, payload));
    await late.subscribeAsync([topics.report, topics.coordinatorStatus], { qos: 1 });
    await until(() => retained.size === 2, 2000, "both retained messages");
    const report = decode("report", retained.get(topics.report) as Buffer);
    expect(report.ok).toBe(true);
    if (!report.ok) return;
    expect(report.message.coordinatorId).toBe("it-coordinator");
    expect(report.message.mode).toBe("standalone");
    expect(report.message.fleet).toMatchObject({ totalNodes: 1, onlineNodes: 1 });
    expect(report.message.nodes[0]).toMatchObject({ nodeId: "node-a", received: 1n });
    expect(report.message.nodes[0]?.cpuPercent).toBeCloseTo(33, 5);
    const coordinatorStatus = decode("coordinatorStatus", retained.get(topics.coordinatorStatus) as Buffer);
    expect(coordinatorStatus.ok && coordinatorStatus.message.state).toBe(PeerState.ONLINE);
    expect(coordinatorStatus.ok && coordinatorStatus.message.mode).toBe("standalone");
  });

  it("counts duplicates and gaps, and a late sample fills its gap", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 1);
    for (const seq of [1, 2, 2, 5, 3]) await sendSample(a, "node-a", 1, seq);
    const node = await until(
      () => (s.node("node-a")?.received === 5n ? s.node("node-a") : undefined),
      3000,
      "5 samples",
    );
    expect(node).toMatchObject({ duplicates: 1n, gaps: 1n });
    expect(s.coordinator.counters()).toMatchObject({ duplicates: 1, gaps: 1 });
  });

  it("turns a node OFFLINE by its Will when its socket is destroyed without DISCONNECT", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 1);
    await sendSample(a, "node-a", 1, 1);
    await until(
      () => s.node("node-a")?.health === NodeHealth.ONLINE && s.node("node-a")?.received === 1n,
      3000,
      "ONLINE",
    );
    a.stream.destroy();
    await until(
      () => s.node("node-a")?.health === NodeHealth.OFFLINE,
      1.5 * KEEPALIVE_S * 1000,
      "OFFLINE by the Will",
    );
  });

  it("turns a silent node (no FIN, no pings) OFFLINE within 1.5 × keepalive", async () => {
    const s = await stack();
    const r = await relay(s.broker.port);
    cleanup.push(() => r.close());
    const a = await agent(`mqtt://127.0.0.1:${r.port}`, "node-a", 1);
    a.on("error", () => undefined);
    await sendSample(a, "node-a", 1, 1);
    await until(() => s.node("node-a")?.received === 1n, 3000, "the first sample");
    r.blackhole();
    const silentAt = Date.now();
    // aedes fires the Will 1.5 × keepalive after the last packet it got, which came before `silentAt`;
    // the margin is for delivery to the coordinator and this poll.
    await until(
      () => s.node("node-a")?.health === NodeHealth.OFFLINE,
      1.5 * KEEPALIVE_S * 1000 + 250,
      "OFFLINE",
    );
    expect(Date.now() - silentAt).toBeGreaterThan(KEEPALIVE_S * 1000);
  });

  it("ignores the old connection's Will after the agent reconnected with a new session", async () => {
    const s = await stack();
    const r = await relay(s.broker.port);
    cleanup.push(() => r.close());
    const old = await agent(`mqtt://127.0.0.1:${r.port}`, "node-a", 1);
    old.on("error", () => undefined);
    r.blackhole(); // the old connection hangs; its Will fires later
    const fresh = await agent(s.broker.url, "node-a", 2);
    await sendSample(fresh, "node-a", 2, 1);
    await until(
      () => s.node("node-a")?.session === 2n && s.node("node-a")?.received === 1n,
      3000,
      "session 2",
    );
    // Wait past the old connection's keepalive: its Will (session 1) arrives and must change nothing.
    await new Promise((resolve) => setTimeout(resolve, 1.5 * KEEPALIVE_S * 1000 + 300));
    await sendSample(fresh, "node-a", 2, 2);
    await until(() => s.node("node-a")?.received === 2n, 3000, "the second sample");
    expect(s.node("node-a")?.health).toBe(NodeHealth.ONLINE);
  });

  it("counts bad payloads by reason and keeps applying valid messages", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 1);
    const bad: [string, Uint8Array][] = [
      [topics.telemetry("node-a"), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])],
      [topics.telemetry("node-a"), encode("telemetry", telemetry({ session: 1, seq: 9 })).slice(0, 150)],
      [topics.birth("node-b"), encode("birth", birth({ nodeId: "node-b", session: 1 })).slice(0, -1)],
      [topics.telemetry("node-a"), new Uint8Array(4096)],
      [topics.birth("node-b"), new Uint8Array(4096)],
      [topics.nodeStatus("node-b"), new Uint8Array(4096)],
      [topics.telemetry("node-a"), encode("telemetry", telemetry({ session: 1, seq: 0 }))],
    ];
    for (const [topic, payload] of bad) await a.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    await sendSample(a, "node-a", 1, 1, 42);
    const node = await until(
      () => (s.node("node-a")?.received === 1n ? s.node("node-a") : undefined),
      3000,
      "the valid sample",
    );
    expect(node.cpuPercent).toBeCloseTo(42, 5);
    expect(s.coordinator.counters().rejected).toEqual({ decode_error: 3, oversized: 3, invalid: 1 });
    expect(s.coordinator.buildReportNow().ingest?.rejected).toEqual({
      decode_error: 3n,
      oversized: 3n,
      invalid: 1n,
    });
    expect(s.node("node-b")).toBeUndefined();
  });

  it("rebuilds the fleet from retained births and statuses after a restart, and stop() says OFFLINE", async () => {
    const s = await stack();
    const a = await agent(s.broker.url, "node-a", 7);
    const b = await agent(s.broker.url, "node-b", 3);
    await until(() => s.coordinator.fleet.nodes.size === 2, 3000, "two nodes");
    b.stream.destroy(); // node-b's Will is retained
    await until(() => s.node("node-b")?.health === NodeHealth.OFFLINE, 3000, "node-b OFFLINE");
    await s.coordinator.stop();

    const watcher = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => watcher.endAsync(true));
    const statuses: PeerState[] = [];
    watcher.on("message", (_t, payload) => {
      const d = decode("coordinatorStatus", payload);
      if (d.ok) statuses.push(d.message.state);
    });
    await watcher.subscribeAsync(topics.coordinatorStatus, { qos: 1 });
    await until(() => statuses.length > 0, 2000, "retained coordinator status");
    expect(statuses[0]).toBe(PeerState.OFFLINE);

    const again = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: s.broker.url,
      topicRoot: ROOT,
      clientId: "it-coordinator-2",
      logger,
      keepaliveSeconds: KEEPALIVE_S,
    });
    cleanup.push(() => again.stop());
    await until(() => again.fleet.nodes.size === 2, 3000, "the fleet rebuilt");
    expect(again.buildReportNow().nodes.map((n) => [n.nodeId, n.session, n.hostname])).toEqual([
      ["node-a", 7n, "node-a.lan"],
      ["node-b", 3n, "node-b.lan"],
    ]);
    expect(again.buildReportNow().nodes[1]?.health).toBe(NodeHealth.OFFLINE);
    // node-a carries on in its session: the new coordinator takes its next sample without a gap.
    await sendSample(a, "node-a", 7, 42);
    await until(() => again.buildReportNow().nodes[0]?.received === 1n, 3000, "node-a's next sample");
    expect(again.buildReportNow().nodes[0]).toMatchObject({ health: NodeHealth.ONLINE, gaps: 0n });
    await until(() => statuses.at(-1) === PeerState.ONLINE, 2000, "the new coordinator's ONLINE status");
    expect(a.connected).toBe(true);
  });

  it("takes telemetry while a large report is built in slices, and publishes one that decodes whole", async () => {
    const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
    cleanup.push(() => broker.close());
    const reports: FleetReport[] = [];
    const coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      topicRoot: ROOT,
      clientId: "sliced-coordinator",
      logger,
      reportSliceNodes: 1, // one node per slice: ~6,000 turns of the event loop for this fleet, time for the sample to arrive mid-build
      timers: { ...REAL_TIMERS, setInterval: () => 0, clearInterval: () => undefined },
      onReport: (r) => reports.push(r),
    });
    cleanup.push(() => coordinator.stop());
    const a = await agent(broker.url, "node-a", 1);
    for (let i = 0; i < 3000; i++) {
      const id = `bulk-${String(i).padStart(3, "0")}`;
      a.publish(topics.birth(id), Buffer.from(encode("birth", birth({ nodeId: id, session: 1 }))), {
        qos: 0,
      });
    }
    await until(() => coordinator.fleet.nodes.size === 3001, 10_000, "3,001 nodes");

    let sampleBeforeReport: boolean | undefined;
    const reported = coordinator.publishReportNow().then(() => {
      sampleBeforeReport = coordinator.fleet.nodes.get("node-a")?.received === 1;
    });
    // The next interval comes while this report is still being built: skipped, not piled up.
    const again = coordinator.publishReportNow();
    expect(coordinator.counters().reportsSkipped).toBe(1);
    await sendSample(a, "node-a", 1, 1);
    await Promise.all([reported, again]);
    expect(sampleBeforeReport).toBe(true);
    expect(reports).toHaveLength(1);
    expect(coordinator.counters().lastReportMs).toBeGreaterThan(0);
    expect(reports[0]?.nodes).toHaveLength(3001);

    const late = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => late.endAsync(true));
    let retained: Buffer | undefined;
    late.on("message", (_topic, payload) => {
      retained = payload;
    });
    await late.subscribeAsync(topics.report, { qos: 1 });
    await until(() => retained, 3000, "the retained report");
    const decoded = decode("report", retained as Buffer);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.message.nodes.map((n) => n.nodeId)).toEqual(reports[0]?.nodes.map((n) => n.nodeId));
    expect(decoded.message.fleet).toMatchObject({ totalNodes: 3001, onlineNodes: 1 });
  });
});

describe("the coordinator's retained status", () => {
  /** What a subscriber arriving now is given on the coordinator status topic (undefined: nothing). */
  async function retainedStatus(url: string) {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => client.endAsync(true));
    let found: ReturnType<typeof decode<"coordinatorStatus">> | undefined;
    client.on("message", (_topic, payload) => {
      if (payload.byteLength > 0) found = decode("coordinatorStatus", payload);
    });
    await client.subscribeAsync(topics.coordinatorStatus, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.endAsync(true);
    return found?.ok ? found.message : undefined;
  }

  it("is published again when another client clears or overwrites it", async () => {
    const s = await stack();
    const mine = await retainedStatus(s.broker.url);
    expect(mine?.state).toBe(PeerState.ONLINE);
    const other = await mqtt.connectAsync(s.broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => other.endAsync(true));
    // A cleanup script clears the retained message.
    await other.publishAsync(topics.coordinatorStatus, Buffer.alloc(0), { qos: 1, retain: true });
    const deadline = Date.now() + 5000;
    let again = await retainedStatus(s.broker.url);
    while (again?.instanceId !== mine?.instanceId && Date.now() < deadline) {
      again = await retainedStatus(s.broker.url);
    }
    expect(again).toMatchObject({ state: PeerState.ONLINE, instanceId: mine?.instanceId });
  });
});

describe("a report the broker could not take", () => {
  it("is not published above maxReportBytes, is counted as failed, and later reports still go out", async () => {
    const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
    cleanup.push(() => broker.close());
    const coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      topicRoot: ROOT,
      clientId: "small-report-coordinator",
      reportIntervalMs: 60_000,
      maxReportBytes: 50, // any report with a node is larger
      logger,
    });
    cleanup.push(() => coordinator.stop());
    const a = await agent(broker.url, "node-a", 1);
    await sendSample(a, "node-a", 1, 1, 10, 20);
    await until(() => coordinator.fleet.nodes.get("node-a")?.latest, 3000, "node-a's sample");
    await coordinator.publishReportNow();
    await coordinator.publishReportNow();
    expect(coordinator.counters()).toMatchObject({ reportPublishFailures: 2, reportsPublished: 0 });
    // Still the report of this interval for onReport / the web view, just not on the bus.
    expect(coordinator.latestReport()?.nodes).toHaveLength(1);
  });
});
