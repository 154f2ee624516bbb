// The embedded broker with auth, over real loopback sockets: who gets in, who may publish and subscribe
// what, and the client-id rules aedes does not enforce by itself.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duplexPair, Writable } from "node:stream";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { topicsFor } from "../../../proto/topics.ts";
import {
  type Cleanup,
  closed,
  collect,
  connackCode,
  granted,
  mqttClient,
  rawConnect,
  usersFile,
} from "../../../test/support/auth.ts";
import { BROKER_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../../test/support/defaults.ts";
import { until } from "../../../test/support/until.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../broker.ts";
import {
  type BrokerAuth,
  type BrokerAuthOptions,
  createBrokerAuth,
  installPreConnect,
} from "./broker-auth.ts";
import type { UsersTable } from "./users.ts";

const ROOT = "k3s-fleet/v1";
const t = topicsFor(ROOT);
const silent = pino({ level: "silent" });
const cleanup: Cleanup = [];
let users: UsersTable;

const creds = {
  edgeA: { username: "edge-a", password: "pw-a", clientId: "k3s-fleet-agent-edge-a" },
  edgeB: { username: "edge-b", password: "pw-b", clientId: "k3s-fleet-agent-edge-b" },
  gateway: { username: "gw", password: "pw-gw", clientId: "edge-c" }, // node user whose node id is edge-c
  sched: { username: "sched", password: "pw-s", clientId: "sched-1" },
  coord: { username: "coord", password: "pw-c", clientId: "k3s-fleet-coordinator" },
  viewer: { username: "viewer", password: "pw-v", clientId: "viewer-1" },
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "k3sf-auth-"));
  users = await usersFile(join(dir, "users.yaml"), [
    { username: "edge-a", role: "node", password: "pw-a" },
    { username: "edge-b", role: "node", password: "pw-b" },
    { username: "gw", role: "node", nodeId: "edge-c", password: "pw-gw" },
    { username: "sched", role: "scheduler", password: "pw-s" },
    { username: "coord", role: "coordinator", password: "pw-c" },
    { username: "viewer", role: "viewer", password: "pw-v" },
    { username: "tls-only", role: "viewer", password: null },
  ]);
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function broker(
  options: Partial<BrokerAuthOptions> = {},
): Promise<{ broker: EmbeddedBroker; auth: BrokerAuth; url: string }> {
  const auth = createBrokerAuth({
    checkGate: BROKER_DEFAULTS.checkGate,
    refusedPublish: "disconnect",
    users,
    topicRoot: ROOT,
    logger: silent,
    ...options,
  });
  const { preConnect: _, ...hooks } = auth.hooks;
  const b = await startEmbeddedBroker({
    ...EMBEDDED_BROKER_DEFAULTS,
    host: "127.0.0.1",
    port: 0,
    logger: silent,
    maxPayloadBytes: 1 << 20,
    ...hooks,
  });
  installPreConnect(b.aedes, auth);
  cleanup.push(() => b.close());
  return { broker: b, auth, url: b.url };
}

const connect = (url: string, who: { clientId: string; username?: string; password?: string }, extra = {}) =>
  mqttClient(url, { ...who, ...extra }, cleanup);

describe("authentication", () => {
  it("accepts the right password and refuses a wrong one, an unknown user and no credentials", async () => {
    const { url, auth } = await broker();
    expect(await connackCode(url, creds.edgeA, cleanup)).toBe(0);
    expect(await connackCode(url, { ...creds.edgeA, password: "nope" }, cleanup)).toBe(4);
    expect(await connackCode(url, { clientId: "x", username: "mallory", password: "pw-a" }, cleanup)).toBe(4);
    expect(await connackCode(url, { clientId: "x" }, cleanup)).toBe(5);
    expect(
      await connackCode(url, { clientId: "x", username: "tls-only", password: "anything" }, cleanup),
    ).toBe(4);
    expect(auth.refusals()).toEqual({
      bad_password: 1,
      unknown_user: 1,
      no_credentials: 1,
      cert_required: 1,
    });
  });

  it("anonymous mode (no users file) lets loopback clients do anything but publish to $ topics", async () => {
    const { url, auth } = await broker({ users: undefined });
    const sub = await connect(url, { clientId: "anon-sub" });
    expect(await granted(sub, ["#", "any/thing/+"])).toEqual([1, 1]);
    const seen = collect(sub);
    const pub = await connect(url, { clientId: "anon-pub", username: "whoever", password: "ignored" });
    await pub.publishAsync("any/thing/here", "hi", { qos: 1 });
    await pub.publishAsync(t.scheduleRequest, "req", { qos: 1 });
    await until(() => seen.length === 2, 3000, "both messages");
    const gone = closed(pub);
    pub.publish("$SYS/fake", "x", { qos: 1 });
    await gone;
    expect(auth.refusals()).toEqual({ publish_denied: 1 });
  });

  it("anonymous mode refuses a connection that does not come from a loopback address", async () => {
    const { broker: b, auth } = await broker({ users: undefined });
    // An in-process stream has no remote address: not provably loopback, so refused.
    const [ours, theirs] = duplexPair();
    b.aedes.handle(theirs);
    const client = new mqtt.MqttClient(() => ours, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: "dp",
    });
    cleanup.push(() => client.endAsync(true));
    const code = await new Promise<number>((resolve) =>
      client.once("error", (error) => resolve((error as { code?: number }).code ?? -1)),
    );
    expect(code).toBe(5);
    expect(auth.refusals()).toEqual({ anonymous_not_loopback: 1 });
  });

  it("refuses everyone, with CONNACK 0x03, when preConnect was not installed (fail closed)", async () => {
    const auth = createBrokerAuth({
      checkGate: BROKER_DEFAULTS.checkGate,
      refusedPublish: "disconnect",
      users,
      topicRoot: ROOT,
      logger: silent,
    });
    const { preConnect: _, ...hooks } = auth.hooks;
    const b = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, port: 0, logger: silent, ...hooks });
    cleanup.push(() => b.close());
    expect(await connackCode(b.url, creds.edgeA, cleanup)).toBe(3);
    expect(auth.refusals()).toEqual({ not_wired: 1 });
  });

  it("an injected policy decides; one that throws refuses with CONNACK 0x03 instead of crashing", async () => {
    const open = await broker({ policy: { clientIdProblem: () => undefined } });
    expect(await connackCode(open.url, { ...creds.edgeA, clientId: "any-id" }, cleanup)).toBe(0);
    const broken = await broker({
      policy: {
        grants: () => {
          throw new Error("boom");
        },
      },
    });
    expect(await connackCode(broken.url, creds.edgeA, cleanup)).toBe(3);
    expect(broken.auth.refusals()).toEqual({ auth_error: 1 });
  });

  it("setUsers takes effect for the next CONNECT", async () => {
    const { url, auth } = await broker();
    expect(await connackCode(url, creds.viewer, cleanup)).toBe(0);
    auth.setUsers(new Map([...users].filter(([name]) => name !== "viewer")));
    expect(await connackCode(url, creds.viewer, cleanup)).toBe(4);
  });

  it("logs each refusal with the client id and the reason", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)));
        callback();
      },
    });
    const { url } = await broker({ logger: pino({ level: "info" }, sink) });
    await connackCode(url, { ...creds.edgeA, password: "wrong" }, cleanup);
    const a = await connect(url, creds.edgeA);
    await granted(a, [t.filters.allNodes]);
    expect(lines).toEqual([
      expect.objectContaining({ clientId: creds.edgeA.clientId, reason: "bad_password", username: "edge-a" }),
      expect.objectContaining({
        clientId: creds.edgeA.clientId,
        reason: "subscribe_denied",
        topic: t.filters.allNodes,
      }),
    ]);
  });
});

describe("publish authorisation", () => {
  it("a node publishes under its own node id only; a forged publish closes it and reaches nobody", async () => {
    const { url, auth } = await broker();
    const coordinator = await connect(url, creds.coord);
    await coordinator.subscribeAsync([t.filters.allNodes, t.scheduleRequest], { qos: 1 });
    const seen = collect(coordinator);
    const a = await connect(url, creds.edgeA);
    await a.publishAsync(t.birth("edge-a"), "birth-a", { qos: 1, retain: true });
    await a.publishAsync(t.telemetry("edge-a"), "telemetry-a", { qos: 1 });
    await a.publishAsync(t.nodeStatus("edge-a"), "status-a", { qos: 1, retain: true });
    const gone = closed(a);
    a.publish(t.telemetry("edge-b"), "forged", { qos: 1 });
    await gone;
    const a2 = await connect(url, creds.edgeA);
    const gone2 = closed(a2);
    a2.publish(t.scheduleRequest, "node-request", { qos: 1 });
    await gone2;
    // Later, legitimate traffic arrives; the forged messages never do.
    const b = await connect(url, creds.edgeB);
    await b.publishAsync(t.telemetry("edge-b"), "telemetry-b", { qos: 1 });
    await until(() => seen.some((m) => m.payload === "telemetry-b"), 3000, "edge-b's own telemetry");
    expect(seen.map((m) => m.payload)).toEqual(["birth-a", "telemetry-a", "status-a", "telemetry-b"]);
    expect(auth.refusals()).toEqual({ publish_denied: 2 });
  });

  it("a node user with a nodeId publishes under that node id, not under its username", async () => {
    const { url } = await broker();
    const viewer = await connect(url, creds.viewer);
    await viewer.subscribeAsync(t.filters.allNodes, { qos: 1 });
    const seen = collect(viewer);
    const gw = await connect(url, creds.gateway);
    await gw.publishAsync(t.telemetry("edge-c"), "c", { qos: 1 });
    await until(() => seen.length === 1, 3000, "edge-c telemetry");
    const gone = closed(gw);
    gw.publish(t.telemetry("gw"), "as-username", { qos: 1 });
    await gone;
    expect(seen.map((m) => m.topic)).toEqual([t.telemetry("edge-c")]);
  });

  it("only schedulers publish schedule requests; only the coordinator publishes reports and decisions", async () => {
    const { url, auth } = await broker();
    const coordinator = await connect(url, creds.coord);
    await coordinator.subscribeAsync(t.scheduleRequest, { qos: 1 });
    const requests = collect(coordinator);
    const sched = await connect(url, creds.sched);
    expect(await granted(sched, [t.scheduleReply(creds.sched.clientId), `${ROOT}/coordinator/#`])).toEqual([
      1, 1,
    ]);
    const replies = collect(sched);
    await sched.publishAsync(t.scheduleRequest, "request", { qos: 1 });
    await until(() => requests.length === 1, 3000, "the schedule request");
    await coordinator.publishAsync(t.scheduleReply(creds.sched.clientId), "decision", { qos: 1 });
    await coordinator.publishAsync(t.report, "report", { qos: 1, retain: true });
    await coordinator.publishAsync(t.coordinatorStatus, "online", { qos: 1, retain: true });
    await until(() => replies.length === 3, 3000, "decision, report and status");
    expect(replies.map((m) => m.payload)).toEqual(["decision", "report", "online"]);

    // Forgeries, each on its own connection since a refused publish closes it.
    const forge = async (who: (typeof creds)[keyof typeof creds], topic: string) => {
      const c = await connect(url, { ...who, clientId: `${who.username}-forger` });
      const gone = closed(c);
      c.publish(topic, "forged", { qos: 1 });
      await gone;
    };
    await forge(creds.sched, t.report);
    await forge(creds.sched, t.scheduleReply(creds.sched.clientId));
    await forge(creds.viewer, t.scheduleRequest);
    await forge(creds.viewer, t.coordinatorStatus);
    await forge(creds.coord, t.telemetry("edge-a"));
    await forge(creds.coord, "$SYS/anything");
    await forge(creds.coord, "elsewhere/topic");
    await coordinator.publishAsync(t.coordinatorStatus, "sentinel", { qos: 1, retain: true });
    await until(() => replies.some((m) => m.payload === "sentinel"), 3000, "sentinel");
    expect([...requests, ...replies].map((m) => m.payload)).not.toContain("forged");
    expect(auth.refusals()).toEqual({ publish_denied: 7 });
  });

  it("refusedPublish: 'drop' acknowledges a forged publish, keeps the client and delivers it to nobody", async () => {
    const { url, auth } = await broker({ refusedPublish: "drop" });
    const viewer = await connect(url, creds.viewer);
    await viewer.subscribeAsync([t.filters.allNodes], { qos: 1 });
    const seen = collect(viewer);
    const a = await connect(url, creds.edgeA);
    await a.publishAsync(t.nodeStatus("edge-b"), "forged", { qos: 1, retain: true }); // PUBACK comes back
    await a.publishAsync(t.telemetry("edge-a"), "own", { qos: 1 });
    await until(() => seen.length === 1, 3000, "own telemetry");
    expect(a.connected).toBe(true);
    expect(seen.map((m) => m.payload)).toEqual(["own"]);
    // Nor was it retained anywhere a later subscriber could find it.
    const late = await connect(url, { ...creds.viewer, clientId: "viewer-2" });
    const lateSeen = collect(late);
    await late.subscribeAsync(t.filters.allNodes, { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(lateSeen).toEqual([]);
    expect(auth.refusals()).toEqual({ publish_denied: 1 });
  });

  it("a CONNECT whose Will the client could not publish is refused; an own-topic Will fires", async () => {
    const { url, auth } = await broker();
    const will = (nodeId: string) => ({
      topic: t.nodeStatus(nodeId),
      payload: Buffer.from("offline"),
      qos: 1 as const,
      retain: true,
    });
    expect(await connackCode(url, { ...creds.edgeA, will: will("edge-b") }, cleanup)).toBe(5);
    expect(auth.refusals()).toEqual({ will_denied: 1 });
    const viewer = await connect(url, creds.viewer);
    await viewer.subscribeAsync(t.filters.allNodes, { qos: 1 });
    const seen = collect(viewer);
    const a = await connect(url, creds.edgeA, { will: will("edge-a") });
    a.stream.destroy(); // an unclean end: the Will is published
    await until(() => seen.length === 1, 3000, "edge-a's Will");
    expect(seen).toEqual([{ topic: t.nodeStatus("edge-a"), payload: "offline" }]);
  });
});

describe("subscribe authorisation", () => {
  it("grants each role its filters (and narrower ones) and refuses the rest with SUBACK 0x80", async () => {
    const { url, auth } = await broker();
    const nodes = t.filters.allNodes;
    const coordinatorAll = `${ROOT}/coordinator/#`;
    const cases: [typeof creds.edgeA, string[], number[]][] = [
      [
        creds.edgeA,
        [t.coordinatorStatus, t.report, nodes, t.telemetry("edge-b"), t.scheduleRequest, "#"],
        [1, 128, 128, 128, 128, 128],
      ],
      [
        creds.sched,
        [
          t.scheduleReply("sched-1"),
          t.scheduleReply("other"),
          `${ROOT}/schedule/reply/+`,
          coordinatorAll,
          t.report,
          nodes,
          t.scheduleRequest,
        ],
        [1, 128, 128, 1, 1, 128, 128],
      ],
      [
        creds.coord,
        [
          nodes,
          t.telemetry("edge-a"),
          `${ROOT}/node/+/telemetry`,
          t.scheduleRequest,
          coordinatorAll,
          `${ROOT}/node/#`,
          `${ROOT}/#`,
          "#",
          "$SYS/#",
        ],
        [1, 1, 1, 1, 1, 128, 128, 128, 128],
      ],
      [
        creds.viewer,
        [nodes, coordinatorAll, t.report, t.scheduleRequest, t.scheduleReply("sched-1"), "#"],
        [1, 1, 1, 128, 128, 128],
      ],
    ];
    let refused = 0;
    for (const [who, filters, expected] of cases) {
      const c = await connect(url, who);
      expect(await granted(c, filters), who.username).toEqual(expected);
      expect(c.connected).toBe(true);
      refused += expected.filter((g) => g === 128).length;
    }
    expect(auth.refusals()).toEqual({ subscribe_denied: refused });
  });

  it("a refused subscription delivers nothing, even next to a granted one", async () => {
    const { url } = await broker();
    const a = await connect(url, creds.edgeA);
    expect(await granted(a, [t.filters.allNodes, t.coordinatorStatus])).toEqual([128, 1]);
    const seen = collect(a);
    const b = await connect(url, creds.edgeB);
    await b.publishAsync(t.telemetry("edge-b"), "b", { qos: 1 });
    const coordinator = await connect(url, creds.coord);
    await coordinator.publishAsync(t.coordinatorStatus, "online", { qos: 1 });
    await until(() => seen.length > 0, 3000, "coordinator status");
    expect(seen).toEqual([{ topic: t.coordinatorStatus, payload: "online" }]);
  });

  it("a persistent session's refused subscription stays refused when restored", async () => {
    const { url } = await broker();
    const first = await connect(url, creds.edgeA, { clean: false });
    expect(await granted(first, [t.filters.allNodes, t.coordinatorStatus])).toEqual([128, 1]);
    await first.endAsync();
    const again = await connect(url, creds.edgeA, { clean: false });
    const seen = collect(again);
    const b = await connect(url, creds.edgeB);
    await b.publishAsync(t.telemetry("edge-b"), "b", { qos: 1 });
    const coordinator = await connect(url, creds.coord);
    await coordinator.publishAsync(t.coordinatorStatus, "online", { qos: 1 });
    await until(() => seen.length > 0, 3000, "coordinator status");
    expect(seen.map((m) => m.topic)).toEqual([t.coordinatorStatus]);
  });
});

describe("client ids", () => {
  it("an empty client id with a persistent session gets CONNACK 0x02; with a clean session it is fine", async () => {
    const { broker: b, auth } = await broker();
    expect(
      await rawConnect(b.port, { clientId: "", clean: false, username: "edge-a", password: "pw-a" }),
    ).toBe(2);
    expect(await rawConnect(b.port, { clientId: "", clean: false })).toBe(2); // checked before credentials
    expect(
      await rawConnect(b.port, { clientId: "", clean: true, username: "viewer", password: "pw-v" }),
    ).toBe(0);
    expect(auth.refusals()).toEqual({ empty_client_id: 2 });
  });

  it("the same holds in anonymous mode", async () => {
    const { broker: b } = await broker({ users: undefined });
    expect(await rawConnect(b.port, { clientId: "", clean: false })).toBe(2);
    expect(await rawConnect(b.port, { clientId: "", clean: true })).toBe(0);
  });

  it("a node connects only as its node id or its agent's client id; nobody else may use those", async () => {
    const { url, auth } = await broker();
    expect(await connackCode(url, { ...creds.edgeA, clientId: "edge-a" }, cleanup)).toBe(0);
    expect(await connackCode(url, { ...creds.edgeA, clientId: "something-else" }, cleanup)).toBe(2);
    expect(await connackCode(url, { ...creds.edgeA, clientId: "k3s-fleet-agent-edge-b" }, cleanup)).toBe(2);
    expect(await connackCode(url, { ...creds.sched, clientId: "k3s-fleet-agent-edge-b" }, cleanup)).toBe(2);
    expect(await connackCode(url, { ...creds.viewer, clientId: "edge-c" }, cleanup)).toBe(2);
    expect(await connackCode(url, { ...creds.sched, clientId: "has/slash" }, cleanup)).toBe(2);
    expect(auth.refusals()).toEqual({ client_id_not_allowed: 5 });
  });

  it("another user cannot take over a connected client id; the same user can", async () => {
    const { url, auth } = await broker();
    const sched = await connect(url, creds.sched);
    const intruder = { ...creds.viewer, clientId: creds.sched.clientId };
    expect(await connackCode(url, intruder, cleanup)).toBe(2);
    expect(auth.refusals()).toEqual({ client_id_taken: 1 });
    // The holder was not disturbed.
    expect(sched.connected).toBe(true);
    await sched.publishAsync(t.scheduleRequest, "still here", { qos: 1 });
    // Its own user reconnecting (say, after a network change) replaces the old connection, as MQTT says.
    const gone = closed(sched);
    const again = await connect(url, creds.sched);
    await gone;
    expect(again.connected).toBe(true);
    // Once the holder is gone with a clean session, the id is free.
    await again.endAsync();
    await new Promise((r) => setTimeout(r, 50));
    expect(await connackCode(url, intruder, cleanup)).toBe(0);
  });

  it("a client id with a persistent session stays its user's while disconnected", async () => {
    const { url } = await broker();
    const viewerSession = { ...creds.viewer, clientId: "shared-id" };
    const schedSession = { ...creds.sched, clientId: "shared-id" };
    // (A scheduler holds the session: viewers may not keep persistent sessions at all.)
    const s = await connect(url, schedSession, { clean: false });
    await s.endAsync();
    expect(await connackCode(url, viewerSession, cleanup)).toBe(2);
    // The owner ends its session with a clean connect; then the id is free for anyone.
    const s2 = await connect(url, schedSession, { clean: true });
    await s2.endAsync();
    await new Promise((r) => setTimeout(r, 50));
    expect(await connackCode(url, viewerSession, cleanup)).toBe(0);
  });
});
