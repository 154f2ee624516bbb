// Issue 11: offline nodes do not stay in the report for ever. They expire after
// coordinator.expireOfflineAfter, and `k3s-fleet nodes forget NODE` removes one at once; either way the
// node's retained birth and status are cleared, so a restarted coordinator does not bring it back.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { encode, topicsFor } from "../proto/index.ts";
import { runCliToEnd } from "./support/cli.ts";
import { birth, status } from "./support/fleet-messages.ts";
import { startMosquitto } from "./support/mosquitto.ts";
import { freePort } from "./support/ports.ts";
import { testBroker, testServiceOptions } from "./support/service.ts";
import { hasTool } from "./support/tools.ts";
import { until } from "./support/until.ts";

const topics = topicsFor("expiry/v1");
const logger = pino({ level: "silent" });
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function start(expireOfflineAfterMs: number): Promise<CoordinatorService> {
  const service = await startCoordinatorService(
    testServiceOptions({
      embeddedBroker: testBroker(await freePort()),
      topicRoot: topics.root,
      expireOfflineAfterMs,
      scheduling: false,
      logger,
    }),
  );
  cleanup.push(() => service.stop());
  return service;
}

async function client(url: string, username?: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, username });
  cleanup.push(() => c.endAsync(true));
  return c;
}

/** A node that said goodbye: retained birth and OFFLINE status, as an agent's clean stop leaves them. */
async function departed(url: string, nodeId: string, atMs: number, username?: string): Promise<void> {
  const c = await client(url, username);
  const retained = { qos: 1 as const, retain: true };
  await c.publishAsync(
    topics.birth(nodeId),
    Buffer.from(encode("birth", birth({ nodeId, session: 1, timeMs: atMs }))),
    retained,
  );
  await c.publishAsync(
    topics.nodeStatus(nodeId),
    Buffer.from(encode("nodeStatus", status("offline", 1, atMs))),
    retained,
  );
}

/** Topics that still hold a retained message for the node. */
async function retainedFor(url: string, nodeId: string, username?: string): Promise<string[]> {
  const c = await client(url, username);
  const seen: string[] = [];
  c.on("message", (topic, payload) => {
    if (payload.byteLength > 0) seen.push(topic);
  });
  await c.subscribeAsync([topics.birth(nodeId), topics.nodeStatus(nodeId)], { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return seen;
}

describe("nodes gone for good", () => {
  it("expire from the report after expireOfflineAfter, retained birth and status cleared", async () => {
    const service = await start(1000);
    const url = service.broker?.url ?? "";
    await departed(url, "old-pi", Date.now() - 5000);
    await until(() => service.coordinator.fleet.nodes.has("old-pi"), 5000, "the node known");
    // Counted from when the coordinator heard it: still there right away, gone once 1 s has passed.
    await service.coordinator.publishReportNow();
    expect(service.coordinator.fleet.nodes.has("old-pi")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await service.coordinator.publishReportNow();
    expect(service.coordinator.fleet.nodes.has("old-pi")).toBe(false);
    expect(service.coordinator.latestReport()?.nodes.map((n) => n.nodeId)).not.toContain("old-pi");
    await until(async () => (await retainedFor(url, "old-pi")).length === 0 || undefined, 5000, "cleared");
    expect(await retainedFor(url, "old-pi")).toEqual([]);
  });

  it("k3s-fleet nodes forget NODE removes one at once", async () => {
    const service = await start(24 * 3600_000);
    const url = service.broker?.url ?? "";
    await departed(url, "replaced-pi", Date.now());
    await departed(url, "other-pi", Date.now());
    await until(() => service.coordinator.fleet.nodes.has("replaced-pi"), 5000, "the node known");
    const r = await runCliToEnd([
      "nodes",
      "forget",
      "replaced-pi",
      "--broker",
      url,
      "--topic-root",
      topics.root,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("forgot replaced-pi");
    await until(() => !service.coordinator.fleet.nodes.has("replaced-pi"), 5000, "the node forgotten");
    expect(service.coordinator.fleet.nodes.has("other-pi")).toBe(true);
    expect(await retainedFor(url, "replaced-pi")).toEqual([]);
  });

  it("a name nothing is retained for (a typo) is said so, exit 1, and nothing else is touched", async () => {
    const service = await start(24 * 3600_000);
    const url = service.broker?.url ?? "";
    await departed(url, "pi-07", Date.now());
    await until(() => service.coordinator.fleet.nodes.has("pi-07"), 5000, "the node known");
    const r = await runCliToEnd(["nodes", "forget", "pi-7", "--broker", url, "--topic-root", topics.root]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("forgot");
    expect(r.stderr).toContain('nothing is retained for node "pi-7"');
    expect(service.coordinator.fleet.nodes.has("pi-07")).toBe(true);
    expect((await retainedFor(url, "pi-07")).sort()).toEqual([
      topics.birth("pi-07"),
      topics.nodeStatus("pi-07"),
    ]);
  });

  it.skipIf(!hasTool("mosquitto"))(
    "a user the broker does not let clear them is told so, not 'forgot' (a refused publish is dropped)",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "k3sf-forget-"));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const acl = join(dir, "acl");
      await writeFile(acl, "user seeder\ntopic readwrite #\nuser reader\ntopic read #\n");
      await chmod(dir, 0o755); // Mosquitto started as root reads it as the mosquitto user
      const broker = await startMosquitto([`acl_file ${acl}`]);
      cleanup.push(() => broker.stop());
      await departed(broker.url, "pi-08", Date.now(), "seeder");
      const r = await runCliToEnd([
        ...["nodes", "forget", "pi-08", "--broker", broker.url, "--topic-root", topics.root],
        ...["--username", "reader"],
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain("forgot");
      expect(r.stderr).toContain("the broker kept pi-08's retained birth or status");
      expect((await retainedFor(broker.url, "pi-08", "seeder")).length).toBe(2);
    },
  );
});
