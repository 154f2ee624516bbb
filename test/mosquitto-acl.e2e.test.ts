// The shipped Mosquitto example (deploy/mosquitto/mosquitto.conf + acl) in a real Mosquitto, with users
// made by mosquitto_passwd: the same roles as the embedded broker, enforced by a broker nobody here wrote.
// Mosquitto acknowledges and drops a refused MQTT 3.1.1 publish, so every "cannot publish" is proved by a
// coordinator-role subscriber that sees the sender's next, allowed message but never the refused one.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { topicsFor } from "../proto/topics.ts";
import { ROOT } from "./support/cli.ts";
import { type MosquittoProcess, startMosquitto } from "./support/mosquitto.ts";
import { toolAvailable } from "./support/tools.ts";
import { until } from "./support/until.ts";

const haveTools = toolAvailable("mosquitto", "mosquitto") && toolAvailable("mosquitto_passwd", "mosquitto");
const DEPLOY = join(ROOT, "deploy", "mosquitto");
const t = topicsFor("k3s-fleet/v1"); // the root the shipped ACL is written for

const PASSWORDS: Record<string, string> = {
  coordinator: "c-pass",
  scheduler: "s-pass",
  viewer: "v-pass",
  "edge-a": "a-pass",
  "edge-b": "b-pass",
};

/**
 * The shipped mosquitto.conf without what must differ in a test: where files live and where it listens
 * (startMosquitto adds a loopback listener on a free port).
 */
function shippedConfig(dir: string): string[] {
  const lines = readFileSync(join(DEPLOY, "mosquitto.conf"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const kept = lines.filter((line) => !/^(listener|password_file|acl_file)\b/.test(line));
  expect(kept).toContain("allow_anonymous false");
  return [...kept, `password_file ${join(dir, "passwd")}`, `acl_file ${join(dir, "acl")}`];
}

function makePasswordFile(file: string): void {
  for (const [index, [user, password]] of Object.entries(PASSWORDS).entries()) {
    const args = index === 0 ? ["-c", "-b", file, user, password] : ["-b", file, user, password];
    const result = spawnSync("mosquitto_passwd", args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
  }
}

describe.skipIf(!haveTools)("the shipped Mosquitto ACL, in a real Mosquitto", () => {
  let mosquitto: MosquittoProcess;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-mosq-acl-"));
    makePasswordFile(join(dir, "passwd"));
    copyFileSync(join(DEPLOY, "acl"), join(dir, "acl"));
    // Started as root, Mosquitto drops to its own user before reading these: let it.
    chmodSync(dir, 0o755);
    for (const file of ["passwd", "acl"]) chmodSync(join(dir, file), 0o644);
    mosquitto = await startMosquitto(shippedConfig(dir));
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });

  afterAll(async () => {
    await mosquitto?.stop();
  });

  async function connect(username: string | undefined, clientId: string, extra: IClientOptions = {}) {
    const c = await mqtt.connectAsync(mosquitto.url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId,
      ...(username ? { username, password: PASSWORDS[username] } : {}),
      ...extra,
    });
    clients.push(c);
    return c;
  }

  async function connackCode(options: IClientOptions): Promise<number> {
    try {
      const c = await mqtt.connectAsync(mosquitto.url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...options,
      });
      clients.push(c);
      return 0;
    } catch (error) {
      return (error as { code: number }).code;
    }
  }

  interface Seen {
    topic: string;
    payload: string;
    retain: boolean;
  }

  function watch(c: MqttClient): Seen[] {
    const seen: Seen[] = [];
    c.on("message", (topic, payload, packet) =>
      seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
    );
    return seen;
  }

  /** Live (not retained) payloads a coordinator-role subscriber to every node topic and request sees. */
  async function coordinatorWatching(): Promise<string[]> {
    const coordinator = await connect("coordinator", "k3s-fleet-coordinator");
    const seen: string[] = [];
    coordinator.on("message", (_topic, payload, packet) => {
      if (!packet.retain) seen.push(payload.toString());
    });
    await coordinator.subscribeAsync([t.filters.allNodes, t.scheduleRequest], { qos: 1 });
    return seen;
  }

  it("refuses anonymous clients and wrong passwords", async () => {
    expect(await connackCode({ clientId: "anon" })).toBe(5);
    expect(await connackCode({ clientId: "x", username: "edge-a", password: "wrong" })).toBe(5);
    expect(await connackCode({ clientId: "x", username: "nobody", password: "a-pass" })).toBe(5);
    expect(await connackCode({ clientId: "x", username: "edge-a", password: "a-pass" })).toBe(0);
  });

  it("node A cannot publish under node B's topics; its own arrive", async () => {
    const seen = await coordinatorWatching();
    const a = await connect("edge-a", "k3s-fleet-agent-edge-a");
    await a.publishAsync(t.telemetry("edge-b"), "forged telemetry", { qos: 1 });
    await a.publishAsync(t.nodeStatus("edge-b"), "forged status", { qos: 1, retain: true });
    await a.publishAsync(t.birth("edge-a"), "a birth", { qos: 1, retain: true });
    await a.publishAsync(t.telemetry("edge-a"), "a telemetry", { qos: 1 });
    await a.publishAsync(t.nodeStatus("edge-a"), "a status", { qos: 1, retain: true });
    await until(
      () => seen.includes("a status"),
      5000,
      () => `edge-a's status\n${mosquitto.output()}`,
    );
    expect(seen).toEqual(["a birth", "a telemetry", "a status"]);
    // Mosquitto kept the connection (it drops the message, not the client), and retained nothing forged.
    expect(a.connected).toBe(true);
    const late = await connect("coordinator", "late-coordinator");
    const retained = watch(late);
    await late.subscribeAsync(t.filters.allNodes, { qos: 1 });
    await until(
      () => retained.length === 2,
      5000,
      () => `the retained birth and status\n${mosquitto.output()}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(retained.map((m) => m.payload).sort()).toEqual(["a birth", "a status"]);
  });

  it("a node cannot publish schedule requests; a scheduler can", async () => {
    const seen = await coordinatorWatching();
    const node = await connect("edge-b", "k3s-fleet-agent-edge-b");
    await node.publishAsync(t.scheduleRequest, "node request", { qos: 1 });
    await node.publishAsync(t.telemetry("edge-b"), "b telemetry", { qos: 1 });
    await until(
      () => seen.includes("b telemetry"),
      5000,
      () => `edge-b's telemetry\n${mosquitto.output()}`,
    );
    const scheduler = await connect("scheduler", "sched-1");
    await scheduler.publishAsync(t.scheduleRequest, "scheduler request", { qos: 1 });
    await until(
      () => seen.includes("scheduler request"),
      5000,
      () => `the scheduler's request\n${mosquitto.output()}`,
    );
    expect(seen).toEqual(["b telemetry", "scheduler request"]);
  });

  // Mosquitto 2.0 grants every subscription (SUBACK 1) and applies `read` rights to each message it would
  // deliver, so what a user may not read simply never arrives.
  it("a scheduler gets its decision on its own reply topic, and nothing it may not read", async () => {
    const scheduler = await connect("scheduler", "sched-1");
    const seen = watch(scheduler);
    await scheduler.subscribeAsync(
      [t.scheduleReply("sched-1"), t.scheduleReply("sched-2"), t.filters.allNodes],
      { qos: 1 },
    );
    const node = await connect("edge-b", "k3s-fleet-agent-edge-b");
    await node.publishAsync(t.telemetry("edge-b"), "b telemetry", { qos: 1 });
    const coordinator = await connect("coordinator", "k3s-fleet-coordinator");
    await coordinator.publishAsync(t.scheduleReply("sched-2"), "not yours", { qos: 1 });
    await coordinator.publishAsync(t.scheduleReply("sched-1"), "decision", { qos: 1 });
    await until(
      () => seen.some((m) => m.payload === "decision"),
      5000,
      () => `the decision\n${mosquitto.output()}`,
    );
    expect(seen.map((m) => `${m.topic} ${m.payload}`)).toEqual([`${t.scheduleReply("sched-1")} decision`]);
  });

  it("a viewer reads node topics and reports, nothing else, and cannot publish", async () => {
    const seen = await coordinatorWatching();
    const viewer = await connect("viewer", "viewer-1");
    const viewed = watch(viewer);
    await viewer.subscribeAsync([t.filters.allNodes, "k3s-fleet/v1/coordinator/#", "#"], { qos: 1 });
    await viewer.publishAsync(t.telemetry("edge-a"), "viewer forged", { qos: 1 });
    await viewer.publishAsync(t.scheduleRequest, "viewer request", { qos: 1 });
    await viewer.publishAsync(t.report, "viewer report", { qos: 1 });
    const scheduler = await connect("scheduler", "sched-1");
    await scheduler.publishAsync(t.scheduleRequest, "scheduler request", { qos: 1 });
    const coordinator = await connect("coordinator", "k3s-fleet-coordinator-2");
    await coordinator.publishAsync(t.report, "report", { qos: 1 });
    const a = await connect("edge-a", "k3s-fleet-agent-edge-a");
    await a.publishAsync(t.telemetry("edge-a"), "a telemetry", { qos: 1 });
    await until(
      () => viewed.some((m) => m.payload === "a telemetry"),
      5000,
      () => `edge-a's telemetry at the viewer\n${mosquitto.output()}`,
    );
    await until(
      () => seen.includes("a telemetry"),
      5000,
      () => `edge-a's telemetry at the coordinator\n${mosquitto.output()}`,
    );
    expect(seen).toEqual(["scheduler request", "a telemetry"]);
    const live = viewed.filter((m) => !m.retain).map((m) => m.payload);
    expect(live).toEqual(["report", "a telemetry"]);
  });

  it("a node may only watch the coordinator's status, not other nodes, reports or requests", async () => {
    const a = await connect("edge-a", "k3s-fleet-agent-edge-a");
    const seen = watch(a);
    await a.subscribeAsync(["#", t.telemetry("edge-b"), t.report, t.coordinatorStatus], { qos: 1 });
    const b = await connect("edge-b", "k3s-fleet-agent-edge-b");
    await b.publishAsync(t.telemetry("edge-b"), "b telemetry", { qos: 1 });
    const scheduler = await connect("scheduler", "sched-1");
    await scheduler.publishAsync(t.scheduleRequest, "request", { qos: 1 });
    const coordinator = await connect("coordinator", "k3s-fleet-coordinator");
    await coordinator.publishAsync(t.report, "report", { qos: 1 });
    await coordinator.publishAsync(t.coordinatorStatus, "online", { qos: 1 });
    await until(
      () => seen.some((m) => m.payload === "online"),
      5000,
      () => `the coordinator status\n${mosquitto.output()}`,
    );
    expect(seen.filter((m) => !m.retain).map((m) => `${m.topic} ${m.payload}`)).toEqual([
      `${t.coordinatorStatus} online`,
    ]);
  });
  // Issue 12: every role against every topic kind, including node topics named after the user itself
  // (the node patterns apply to every user, so without a deny line a viewer could publish as node "viewer").
  it("every role publishes exactly what its row of the role table allows, no more", async () => {
    const users = ["edge-a", "scheduler", "viewer", "coordinator"] as const;
    const kinds = (user: string) => ({
      ownBirth: t.birth(user),
      ownTelemetry: t.telemetry(user),
      ownStatus: t.nodeStatus(user),
      otherTelemetry: t.telemetry("edge-b"),
      request: t.scheduleRequest,
      reply: t.scheduleReply("sched-obs"),
      coordinatorStatus: t.coordinatorStatus,
      report: t.report,
    });
    const allowed: Record<(typeof users)[number], string[]> = {
      "edge-a": ["ownBirth", "ownTelemetry", "ownStatus"],
      scheduler: ["request"],
      viewer: [],
      coordinator: ["reply", "coordinatorStatus", "report"],
    };
    const observer = await connect("coordinator", "observer");
    const replies = await connect("scheduler", "sched-obs");
    const seen: string[] = [];
    for (const c of [observer, replies])
      c.on("message", (_topic, payload, packet) => {
        if (!packet.retain) seen.push(payload.toString()); // not what earlier tests retained
      });
    await observer.subscribeAsync(["k3s-fleet/v1/node/#", t.scheduleRequest, "k3s-fleet/v1/coordinator/#"], {
      qos: 1,
    });
    await replies.subscribeAsync(t.scheduleReply("sched-obs"), { qos: 1 });
    for (const user of users) {
      const c = await connect(user, `matrix-${user === "edge-a" ? "k3s-fleet-agent-edge-a" : user}`);
      for (const [kind, topic] of Object.entries(kinds(user))) {
        await c.publishAsync(topic, `${user}:${kind}`, { qos: 1 });
      }
    }
    await observer.publishAsync(t.coordinatorStatus, "end", { qos: 1 });
    await until(() => seen.includes("end"), 10_000, "the end marker");
    await new Promise((r) => setTimeout(r, 200));
    const expected = users.flatMap((user) => allowed[user].map((kind) => `${user}:${kind}`));
    expect(seen.filter((p) => p !== "end").sort()).toEqual(expected.sort());
  });
});
