// The agent against a real broker: an in-process aedes on 127.0.0.1, watched by a plain mqtt.js client.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Aedes, type Client } from "aedes";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentClientId, decode, type MessageOf, PeerState, parseTopic, topicsFor } from "../proto/index.ts";
import { AGENT_DEFAULTS } from "../test/support/defaults.ts";
import { createFakeSource } from "../test/support/fake-source.ts";
import { AGENT_VERSION, type AgentOptions, type RunningAgent, startAgent } from "./agent.ts";

const ROOT = "test-fleet/v1";
const topics = topicsFor(ROOT);
const silent = pino({ level: "silent" });

type Seen =
  | { kind: "birth"; node: string; retain: boolean; message: MessageOf<"birth"> }
  | { kind: "nodeStatus"; node: string; retain: boolean; message: MessageOf<"nodeStatus"> }
  | { kind: "telemetry"; node: string; retain: boolean; message: MessageOf<"telemetry"> };

interface Broker {
  url: string;
  port: number;
  clients: Map<string, Client>;
  /** Stops accepting connections and drops every open one (the broker process stays). */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const clients = new Map<string, Client>();
  aedes.on("client", (client) => clients.set(client.id, client));
  aedes.on("clientDisconnect", (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  let server = net.createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    clients,
    async goDown() {
      // close() stops listening at once; its callback would wait for the watcher's connection too.
      server.close();
      for (const client of clients.values()) {
        if (client.id.startsWith("k3s-fleet-agent")) client.conn.destroy();
      }
      await new Promise((resolve) => setImmediate(resolve));
    },
    async comeBack() {
      server = net.createServer(aedes.handle);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      for (const client of clients.values()) client.conn.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** A plain mqtt.js subscriber that decodes everything under the node topics. */
async function watch(url: string) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  const seen: Seen[] = [];
  const waiters = new Set<() => void>();
  client.on("message", (topic, payload, packet) => {
    const parsed = parseTopic(ROOT, topic);
    if (!parsed.ok || !("nodeId" in parsed.topic)) return;
    const { kind, nodeId } = parsed.topic;
    const result = decode(kind, payload);
    if (!result.ok) throw new Error(`undecodable ${kind}: ${result.detail}`);
    seen.push({ kind, node: nodeId, retain: packet.retain, message: result.message } as Seen);
    for (const wake of waiters) wake();
  });
  await client.subscribeAsync(topics.filters.allNodes, { qos: 1 });
  const until = (predicate: (seen: Seen[]) => boolean, what: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(seen)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(summary(seen))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { client, seen, until, close: () => client.endAsync() };
}

function summary(seen: Seen[]) {
  return seen.map((s) =>
    s.kind === "telemetry"
      ? `${s.node} telemetry ${s.message.session}/${s.message.seq}`
      : s.kind === "birth"
        ? `${s.node} birth ${s.message.session}${s.retain ? " (retained)" : ""}`
        : `${s.node} status ${PeerState[s.message.state]} ${s.message.session} "${s.message.reason}"${s.retain ? " (retained)" : ""}`,
  );
}

const telemetryOf = (seen: Seen[], node: string) =>
  seen.flatMap((s) => (s.kind === "telemetry" && s.node === node ? [s.message] : []));
const statusesOf = (seen: Seen[], node: string) =>
  seen.flatMap((s) => (s.kind === "nodeStatus" && s.node === node ? [s.message] : []));
const has = (seen: Seen[], node: string, session: bigint, seq: bigint) =>
  telemetryOf(seen, node).some((t) => t.session === session && t.seq === seq);

/** Within each session, telemetry seqs run 1, 2, 3, … with no gap and no repeat. */
function expectContiguousSeqs(telemetry: MessageOf<"telemetry">[]) {
  const bySession = new Map<bigint, bigint[]>();
  for (const t of telemetry) bySession.set(t.session, [...(bySession.get(t.session) ?? []), t.seq]);
  for (const seqs of bySession.values()) {
    expect(seqs).toEqual(seqs.map((_, i) => BigInt(i + 1)));
  }
}

/** What a subscriber arriving now is given: the retained messages. */
async function retained(url: string, node: string, kinds: number) {
  const late = await watch(url);
  await late.until((s) => s.filter((m) => m.node === node && m.retain).length >= kinds, "retained messages");
  await late.close();
  return late.seen.filter((m) => m.node === node && m.retain);
}

async function memTotalBytes(): Promise<bigint> {
  const kib = /^MemTotal:\s+(\d+) kB/m.exec(await readFile("/proc/meminfo", "utf8"))?.[1];
  return BigInt(kib ?? 0) * 1024n;
}

describe("agent against an in-process aedes", () => {
  let broker: Broker;
  let stateDir: string;
  const agents: RunningAgent[] = [];
  const children: ChildProcess[] = [];

  const options = (overrides: Partial<AgentOptions> & { nodeId: string }): AgentOptions => ({
    ...AGENT_DEFAULTS,
    brokerUrl: broker.url,
    topicRoot: ROOT,
    intervalMs: 100,
    stateDir,
    internet: { target: undefined, timeoutMs: 500, everyMs: 30_000 },
    logger: silent,
    ...overrides,
  });
  const start = async (overrides: Partial<AgentOptions> & { nodeId: string }) => {
    const agent = await startAgent(options(overrides));
    agents.push(agent);
    return agent;
  };

  beforeEach(async () => {
    broker = await startBroker();
    stateDir = await mkdtemp(join(tmpdir(), "k3sf-agent-"));
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop("test over")));
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await broker.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("announces birth and ONLINE (retained), streams seq 1,2,3…, starts a new session on reconnect, and leaves OFFLINE on stop", async () => {
    const watcher = await watch(broker.url);
    const agent = await start({
      nodeId: "edge-01",
      source: createFakeSource({ stepMs: 100 }),
      labels: { zone: "a" },
    });
    await watcher.until((s) => has(s, "edge-01", 1n, 3n), "telemetry 1/3");

    // Birth, then ONLINE, then telemetry: the order a coordinator relies on.
    const first = watcher.seen.filter((s) => s.node === "edge-01").slice(0, 3);
    expect(first.map((s) => s.kind)).toEqual(["birth", "nodeStatus", "telemetry"]);
    expect(first[0]?.message).toMatchObject({
      nodeId: "edge-01",
      session: 1n,
      agentVersion: AGENT_VERSION,
      hostname: "edge-01",
      labels: { zone: "a" },
      intervalMs: 100,
    });
    expect(first[1]?.message).toMatchObject({ state: PeerState.ONLINE, session: 1n });
    const t1 = telemetryOf(watcher.seen, "edge-01")[1];
    expect(t1).toMatchObject({ session: 1n, seq: 2n });
    expect(t1?.cpu?.coreUsagePermille).toEqual([250, 500]);
    expect(t1?.health).toMatchObject({ online: true, vpn: true, vpnInterface: "wg0" });
    expect(agent.session).toBe(1n);
    expect(agent.connected).toBe(true);

    const kept = await retained(broker.url, "edge-01", 2);
    expect(kept.map((k) => [k.kind, k.message.session])).toEqual(
      expect.arrayContaining([
        ["birth", 1n],
        ["nodeStatus", 1n],
      ]),
    );
    expect(kept.find((k) => k.kind === "nodeStatus")?.message).toMatchObject({ state: PeerState.ONLINE });

    // The broker drops the connection: it publishes the Will, the agent comes back with session 2.
    // The agent's client id carries its install id (proto agentClientId).
    broker.clients.get(agentClientId("edge-01", agent.installId))?.conn.destroy();
    await watcher.until((s) => has(s, "edge-01", 2n, 2n), "telemetry 2/2");
    const will = statusesOf(watcher.seen, "edge-01").find((m) => m.state === PeerState.OFFLINE);
    expect(will).toMatchObject({ session: 1n, reason: "" });
    expect(watcher.seen.some((s) => s.kind === "birth" && s.message.session === 2n)).toBe(true);
    expect(statusesOf(watcher.seen, "edge-01").at(-1)).toMatchObject({
      state: PeerState.ONLINE,
      session: 2n,
    });
    expect(agent.session).toBe(2n);

    await agent.stop("maintenance");
    await watcher.until(
      (s) => statusesOf(s, "edge-01").some((m) => m.reason === "maintenance"),
      "offline status with reason",
    );
    const afterStop = await retained(broker.url, "edge-01", 2);
    expect(afterStop.find((k) => k.kind === "nodeStatus")?.message).toMatchObject({
      state: PeerState.OFFLINE,
      session: 2n,
      reason: "maintenance",
    });
    expectContiguousSeqs(telemetryOf(watcher.seen, "edge-01"));

    // A restarted process continues the persisted count.
    const again = await start({ nodeId: "edge-01", source: createFakeSource({ stepMs: 100 }) });
    await watcher.until((s) => has(s, "edge-01", 3n, 1n), "telemetry 3/1 after restart");
    expect(again.session).toBe(3n);
    await watcher.close();
  });

  it("publishes nothing while the broker is down and resumes at seq 1 of a new session", async () => {
    const watcher = await watch(broker.url);
    const agent = await start({ nodeId: "edge-02", source: createFakeSource({ stepMs: 100 }) });
    await watcher.until((s) => has(s, "edge-02", 1n, 2n), "telemetry 1/2");

    await broker.goDown();
    await watcher.until(
      (s) => statusesOf(s, "edge-02").some((m) => m.state === PeerState.OFFLINE),
      "the Will while down",
    );
    const whileDown = telemetryOf(watcher.seen, "edge-02").length;
    await new Promise((resolve) => setTimeout(resolve, 800)); // several intervals without a broker
    expect(agent.connected).toBe(false);
    await broker.comeBack();
    await watcher.until(
      (s) => telemetryOf(s, "edge-02").some((t) => t.session > 1n && t.seq === 2n),
      "resumed telemetry",
    );

    const later = telemetryOf(watcher.seen, "edge-02").slice(whileDown);
    // Nothing sampled while down was queued and flushed after the reconnect.
    expect(later.every((t) => t.session > 1n)).toBe(true);
    expect(later[0]?.seq).toBe(1n);
    const rebirth = watcher.seen.findIndex(
      (s) => s.kind === "birth" && s.node === "edge-02" && s.message.session > 1n,
    );
    const firstLater = watcher.seen.findIndex((s) => s.kind === "telemetry" && s.message.session > 1n);
    expect(rebirth).toBeGreaterThanOrEqual(0);
    expect(rebirth).toBeLessThan(firstLater);
    expectContiguousSeqs(telemetryOf(watcher.seen, "edge-02"));
    await watcher.close();
  });

  it("keeps sampling after a failed reading and does not count it as a seq", async () => {
    const watcher = await watch(broker.url);
    // Read 1 primes the counters at start; reads 3 and 4 are the second and third ticks.
    await start({ nodeId: "edge-03", source: createFakeSource({ stepMs: 100, failOn: [3, 4] }) });
    await watcher.until((s) => has(s, "edge-03", 1n, 3n), "telemetry after failures");
    expectContiguousSeqs(telemetryOf(watcher.seen, "edge-03"));
    await watcher.close();
  });

  it("publishes this machine's real readings (real sample source)", async () => {
    const watcher = await watch(broker.url);
    const agent = await start({ nodeId: "real-01", intervalMs: 250 });
    await watcher.until((s) => has(s, "real-01", 1n, 3n), "real telemetry 1/3");
    const memTotal = await memTotalBytes();
    const birth = watcher.seen.find((s) => s.kind === "birth" && s.node === "real-01")
      ?.message as MessageOf<"birth">;
    expect(birth.memoryTotalBytes).toBe(memTotal);
    expect(birth.cpu?.cores).toBeLessThanOrEqual(availableParallelism());
    const telemetry = telemetryOf(watcher.seen, "real-01");
    expect(telemetry.slice(0, 3).map((t) => t.seq)).toEqual([1n, 2n, 3n]);
    for (const t of telemetry) {
      expect(t.memory?.totalBytes).toBe(memTotal);
      expect(t.cpu?.cores).toBe(birth.cpu?.cores);
      expect(t.cpu?.usagePercent).toBeGreaterThanOrEqual(0);
      expect(t.cpu?.usagePercent).toBeLessThanOrEqual(100);
      expect(t.health?.online).toBe(t.network?.defaultInterface !== "");
    }
    await agent.stop();
    await watcher.close();
  });

  it("is announced OFFLINE by its Will when the agent process dies (SIGKILL)", async () => {
    const watcher = await watch(broker.url);
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "../bench/agent-child.ts"),
        ...["--url", broker.url, "--node-id", "crashy", "--interval", "200"],
        ...["--state-dir", stateDir, "--root", ROOT],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    children.push(child);
    await watcher.until((s) => has(s, "crashy", 1n, 1n), "telemetry from the child");
    child.kill("SIGKILL");
    await watcher.until(
      (s) => statusesOf(s, "crashy").some((m) => m.state === PeerState.OFFLINE),
      "the Will after SIGKILL",
    );
    const kept = await retained(broker.url, "crashy", 2);
    expect(kept.find((k) => k.kind === "nodeStatus")?.message).toMatchObject({
      state: PeerState.OFFLINE,
      session: 1n,
      reason: "",
    });
    await watcher.close();
  });

  it("starts without a reachable broker (edge nodes boot before their network) and stops promptly", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const source = createFakeSource({ stepMs: 100 });
    const agent = await startAgent(
      options({ nodeId: "lonely", brokerUrl: `mqtt://127.0.0.1:${port}`, source }),
    );
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(agent.connected).toBe(false);
    expect(agent.seq).toBe(0n);
    expect(source.reads).toBeGreaterThanOrEqual(3); // it samples all the same
    const started = performance.now();
    await agent.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("refuses unusable options, listing every problem", async () => {
    await expect(
      startAgent(
        options({
          nodeId: "bad/node",
          topicRoot: "fleet/#",
          brokerUrl: "http://x",
          intervalMs: 5,
          internet: { target: "nowhere", timeoutMs: 0, everyMs: 1 },
        }),
      ),
    ).rejects.toMatchObject({
      code: "K3SF_ERR_AGENT_OPTIONS",
      problems: [
        expect.stringContaining("bad/node"),
        expect.stringContaining("wildcard"),
        expect.stringContaining("http://x"),
        expect.stringContaining("interval"),
        expect.stringContaining("nowhere"),
        expect.stringContaining("timeout"),
      ],
    });
  });
});
