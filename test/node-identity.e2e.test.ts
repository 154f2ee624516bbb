// Issue 11, items 2 and 3: two machines with one node id (every stock Raspberry Pi is "raspberrypi"), and a
// node whose state dir was wiped. Real agents (fake samples), the embedded broker and the coordinator, over
// real sockets.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../agent/agent.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { type RunningCoordinator, startCoordinator } from "../coordinator/fleet/fleet-service.ts";
import { createCoordinatorMetrics } from "../coordinator/http/metrics.ts";
import { renderReport } from "../coordinator/report/render.ts";
import { decode, NodeHealth, topicsFor } from "../proto/index.ts";
import { AGENT_DEFAULTS, COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "./support/defaults.ts";
import { createFakeSource } from "./support/fake-source.ts";

const logger = pino({ level: "silent" });
const ROOT = "ident/v1";
const topics = topicsFor(ROOT);
const INTERVAL_MS = 100;
const cleanup: (() => Promise<unknown> | undefined)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()?.catch(() => undefined);
});

async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function stack(): Promise<{ broker: EmbeddedBroker; coordinator: RunningCoordinator }> {
  const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger });
  cleanup.push(() => broker.close());
  const coordinator = await startCoordinator({
    ...COORDINATOR_DEFAULTS,
    brokerUrl: broker.url,
    topicRoot: ROOT,
    clientId: "ident-coordinator",
    reportIntervalMs: 60_000,
    staleAfterIntervals: 3,
    offlineAfterIntervals: 0,
    defaultIntervalMs: INTERVAL_MS,
    keepaliveSeconds: 5,
    logger,
  });
  cleanup.push(() => coordinator.stop());
  return { broker, coordinator };
}

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "k3sf-ident-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function agent(url: string, nodeId: string, dir: string): Promise<RunningAgent> {
  const running = await startAgent({
    ...AGENT_DEFAULTS,
    nodeId,
    brokerUrl: url,
    topicRoot: ROOT,
    intervalMs: INTERVAL_MS,
    stateDir: dir,
    source: createFakeSource({ stepMs: INTERVAL_MS }),
    logger,
  });
  cleanup.push(() => running.stop("test over"));
  return running;
}

/** What a subscriber arriving now is given on the node's birth topic. */
async function retainedBirthInstall(url: string, nodeId: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  try {
    let installId: string | undefined;
    client.on("message", (_topic, payload) => {
      const birth = decode("birth", payload);
      if (birth.ok) installId = birth.message.installId;
    });
    await client.subscribeAsync(topics.birth(nodeId), { qos: 1 });
    return await until(() => installId, 3000, "the retained birth");
  } finally {
    await client.endAsync();
  }
}

describe("two machines with one node id", () => {
  it("keeps the first, stops the second with a one-line error naming the id and the fix, and shows it", async () => {
    const { broker, coordinator } = await stack();
    const metrics = createCoordinatorMetrics(coordinator);
    const first = await agent(broker.url, "raspberrypi", await stateDir());
    await until(
      () => coordinator.fleet.nodes.get("raspberrypi")?.lastTelemetryAtMs !== undefined,
      5000,
      "the first machine's telemetry",
    );

    const second = await agent(broker.url, "raspberrypi", await stateDir());
    expect(second.installId).not.toBe(first.installId);
    const error = await Promise.race([
      second.fatal,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000)),
    ]);
    expect(error?.code).toBe("K3SF_ERR_NODE_ID_CONFLICT");
    expect(error?.message).not.toContain("\n");
    expect(error?.message).toContain('"raspberrypi"');
    expect(error?.message).toContain("--node-name");
    expect(error?.message).toContain("NODE_NAME");
    expect(second.connected).toBe(false);

    // The first keeps its node id, stays connected and ONLINE, and its birth is the retained one again.
    const node = coordinator.fleet.nodes.get("raspberrypi");
    expect(node?.installId).toBe(first.installId);
    const received = node?.received ?? 0;
    await until(() => (node?.received ?? 0) > received + 3, 5000, "more telemetry from the first");
    expect(first.connected).toBe(true);
    const deadline = Date.now() + 5000;
    while ((await retainedBirthInstall(broker.url, "raspberrypi")) !== first.installId) {
      if (Date.now() > deadline) throw new Error("the first machine's birth is not the retained one");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const report = coordinator.buildReportNow();
    const line = report.nodes.find((n) => n.nodeId === "raspberrypi");
    expect(line).toMatchObject({
      health: NodeHealth.ONLINE,
      installId: first.installId,
      idConflicts: 1n,
      conflictingInstallId: second.installId,
    });
    expect(renderReport(report)).toContain("NODE ID CONFLICT");
    expect(await metrics.registry.metrics()).toMatch(/^k3sfleet_node_id_conflicts_total 1$/m);
  });
});

describe("a node whose state dir was wiped", () => {
  it("is ONLINE again with its first new sample, and none of them is dropped as a duplicate", async () => {
    const { broker, coordinator } = await stack();
    const dir = await stateDir();
    const before = await agent(broker.url, "edge-1", dir);
    const node = () => coordinator.fleet.nodes.get("edge-1");
    await until(() => (node()?.received ?? 0) >= 5, 5000, "telemetry before the wipe");
    // Many reconnects before: a high session number the fresh agent will not reach.
    await before.stop("re-flashing");
    await rm(dir, { recursive: true, force: true });

    const after = await agent(broker.url, "edge-1", dir);
    expect(after.installId).not.toBe(before.installId);
    const duplicatesBefore = node()?.duplicates ?? 0;
    const receivedBefore = node()?.received ?? 0;
    await until(() => (node()?.received ?? 0) >= receivedBefore + 3, 5000, "telemetry after the wipe");
    expect(node()?.duplicates).toBe(duplicatesBefore);
    const report = coordinator.buildReportNow().nodes.find((n) => n.nodeId === "edge-1");
    expect(report?.health).toBe(NodeHealth.ONLINE);
    expect(report?.installId).toBe(after.installId);
    expect(report?.idConflicts).toBe(0n);
  });
});
