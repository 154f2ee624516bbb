import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { PeerState } from "../proto/index.ts";
import {
  isRunFromOne,
  type Seen,
  seqsBySession,
  startAedes,
  statusesOf,
  type TestBroker,
  telemetryOf,
  timestampMs,
  type Watcher,
  watchNodes,
} from "../test/support/simulator.ts";
import { until } from "../test/support/until.ts";
import { nextSession, type Simulation, startSimulation } from "./fleet-sim.ts";
import { type PublishEvent, simulationOptionProblems } from "./options.ts";

const ROOT = "simtest/v1";
const logger = pino({ level: "silent" });
const N = 50;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup(extra: Partial<Parameters<typeof startSimulation>[0]> = {}) {
  const broker: TestBroker = await startAedes();
  cleanup.push(() => broker.close());
  const clientIds = new Set<string>();
  broker.broker.on("client", (client) => clientIds.add(client.id));
  const watcher: Watcher = await watchNodes(broker.url, ROOT);
  cleanup.push(() => watcher.close());
  const published: PublishEvent[] = [];
  const sim: Simulation = await startSimulation({
    brokerUrl: broker.url,
    nodes: N,
    intervalMs: 250,
    topicRoot: ROOT,
    flapFraction: 0,
    seed: 7,
    logger,
    onPublish: (e) => published.push(e),
    ...extra,
  });
  cleanup.push(() => sim.stop());
  return { broker, watcher, sim, clientIds, published };
}

/** What a subscriber arriving now gets: the retained messages only. */
async function retained(url: string): Promise<Seen[]> {
  const late = await watchNodes(url, ROOT);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await late.close();
  return late.seen.filter((s) => s.retain);
}

describe("nextSession", () => {
  it.each([
    { previous: 0n, now: 1_700_000_000_000, expected: 1_700_000_000_000n },
    { previous: 1_700_000_000_000n, now: 1_700_000_000_000, expected: 1_700_000_000_001n },
    { previous: 1_800_000_000_000n, now: 1_700_000_000_000, expected: 1_800_000_000_001n },
  ])("after $previous at $now → $expected", ({ previous, now, expected }) => {
    expect(nextSession(previous, now)).toBe(expected);
  });
});

describe("simulationOptionProblems", () => {
  it("lists every problem at once", () => {
    const problems = simulationOptionProblems({
      brokerUrl: "ws://x",
      nodes: 0,
      intervalMs: 10,
      prefix: "a/b",
      flapFraction: 2,
      connectRate: 0,
      logger,
    });
    expect(problems).toHaveLength(6);
  });

  it("takes the default for an option given as undefined (an unset flag)", () => {
    expect(
      simulationOptionProblems({
        brokerUrl: "mqtt://127.0.0.1:1883",
        nodes: 10,
        intervalMs: 1000,
        topicRoot: undefined,
        prefix: undefined,
        seed: undefined,
        logger,
      }),
    ).toEqual([]);
  });

  it("accepts the defaults", () => {
    expect(
      simulationOptionProblems({ brokerUrl: "mqtt://127.0.0.1:1883", nodes: 10, intervalMs: 1000, logger }),
    ).toEqual([]);
  });

  it("makes startSimulation fail with a coded error", async () => {
    await expect(
      startSimulation({ brokerUrl: "mqtt://x", nodes: -1, intervalMs: 1000, logger }),
    ).rejects.toMatchObject({
      code: "K3SF_ERR_SIM_OPTIONS",
    });
  });
});

describe("fleet simulation against aedes", () => {
  it(`runs ${N} virtual agents, each its own connection, session, birth, status and seq 1..k`, async () => {
    const { broker, watcher, sim, clientIds, published } = await setup();
    expect(await sim.waitForConnected(N, 5_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    // Each node is its own MQTT client.
    const simClients = [...clientIds].filter((id) => id.startsWith("k3s-fleet-agent-sim-"));
    expect(simClients.sort()).toEqual(sim.nodeIds.map((id) => `k3s-fleet-agent-${id}`));
    expect(watcher.undecodable).toBe(0);

    for (const nodeId of sim.nodeIds) {
      const births = watcher.seen.filter((s) => s.kind === "birth" && s.nodeId === nodeId);
      expect(births).toHaveLength(1);
      const session = births[0]?.message.session ?? 0n;
      expect(session).toBeGreaterThan(0n);
      const statuses = statusesOf(watcher.seen, nodeId);
      expect(statuses.map((s) => [s.message.state, s.message.session])).toEqual([
        [PeerState.ONLINE, session],
      ]);
      // Telemetry: one session, the birth's; seq 1, 2, 3, … in order with no gap; ~12 samples in 3 s at 250 ms.
      const bySession = seqsBySession(watcher.seen, nodeId);
      expect([...bySession.keys()]).toEqual([session]);
      const seqs = bySession.get(session) ?? [];
      expect(isRunFromOne(seqs)).toBe(true);
      expect(seqs.length).toBeGreaterThanOrEqual(10);
      // Birth before the first telemetry, from the same connection.
      const firstTelemetry = watcher.seen.findIndex((s) => s.kind === "telemetry" && s.nodeId === nodeId);
      expect(watcher.seen.findIndex((s) => s.kind === "birth" && s.nodeId === nodeId)).toBeLessThan(
        firstTelemetry,
      );
    }

    // The hook reports every publish with the timestamp the message carries.
    await until(() => sim.stats().inflight === 0, 5_000, "acks");
    const stats = sim.stats();
    expect(stats).toMatchObject({ nodes: N, connected: N, births: N, errors: 0, reconnects: 0, lost: 0 });
    expect(stats.acked).toBe(stats.published);
    await until(
      () => watcher.seen.filter((s) => s.kind === "telemetry").length === stats.published,
      5_000,
      "delivery",
    );
    expect(published).toHaveLength(stats.published);
    const sample = published[published.length >> 1] as PublishEvent;
    const carried = telemetryOf(watcher.seen, sample.nodeId).find((t) => t.seq === sample.seq);
    expect(carried?.session).toBe(sample.session);
    expect(timestampMs(carried?.time)).toBe(sample.timeMs);

    // Births and ONLINE statuses are retained: a subscriber arriving now gets one of each per node.
    const kept = await retained(broker.url);
    expect(kept.filter((s) => s.kind === "birth")).toHaveLength(N);
    expect(kept.filter((s) => s.kind === "nodeStatus" && s.message.state === PeerState.ONLINE)).toHaveLength(
      N,
    );
    expect(kept.filter((s) => s.kind === "telemetry")).toHaveLength(0);

    // Publications are spread over the interval, not sent in one burst.
    const times = published.slice(N, 3 * N).map((p) => p.timeMs);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(250);
  }, 20_000);

  it("kill() drops a node abruptly: the broker publishes its Will (OFFLINE, its session, no reason)", async () => {
    const { watcher, sim } = await setup();
    expect(await sim.waitForConnected(N, 5_000)).toBe(true);
    const victim = sim.nodeIds[7] as string;
    const session = watcher.seen.find((s) => s.kind === "birth" && s.nodeId === victim)?.message.session;
    expect(sim.kill(victim)).toBe(true);
    await until(
      () => statusesOf(watcher.seen, victim).some((s) => s.message.state === PeerState.OFFLINE),
      5_000,
      "Will",
    );
    const will = statusesOf(watcher.seen, victim).at(-1);
    expect(will?.message).toMatchObject({ state: PeerState.OFFLINE, session, reason: "" });
    expect(sim.stats()).toMatchObject({ down: 1, connected: N - 1, errors: 0 });
    const seqBefore = telemetryOf(watcher.seen, victim).length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(telemetryOf(watcher.seen, victim)).toHaveLength(seqBefore); // dead stays dead

    // Revived: a new, larger session, birth, ONLINE, seq from 1 again.
    expect(sim.revive(victim)).toBe(true);
    await until(() => sim.stats().connected === N, 5_000, "revival");
    await until(() => seqsBySession(watcher.seen, victim).size === 2, 5_000, "telemetry of the new session");
    const [first, second] = [...seqsBySession(watcher.seen, victim).keys()];
    expect(second).toBeGreaterThan(first ?? 0n);
    expect(isRunFromOne(seqsBySession(watcher.seen, victim).get(second ?? 0n) ?? [])).toBe(true);
    expect(sim.stats().reconnects).toBe(1);
    expect(sim.kill("no-such-node")).toBe(false);
  }, 20_000);

  it("stop() leaves a retained OFFLINE status with the reason for every node", async () => {
    const { broker, sim } = await setup();
    expect(await sim.waitForConnected(N, 5_000)).toBe(true);
    await sim.stop("demo over");
    expect(sim.stats()).toMatchObject({ connected: 0, connecting: 0 });
    const kept = await retained(broker.url);
    const statuses = kept.filter((s) => s.kind === "nodeStatus");
    expect(statuses).toHaveLength(N);
    for (const s of statuses)
      expect(s.message).toMatchObject({ state: PeerState.OFFLINE, reason: "demo over" });
  }, 20_000);

  it("flapping nodes drop (Will), come back with a new session and seq 1, and keep doing so", async () => {
    const { watcher, sim } = await setup({
      flapFraction: 0.1,
      flap: { upMs: [300, 600], downMs: [300, 600] },
    });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const flappers = sim.nodeIds.filter((id) => seqsBySession(watcher.seen, id).size > 1);
    expect(flappers.length).toBe(5);
    for (const id of flappers) {
      const wills = statusesOf(watcher.seen, id).filter((s) => s.message.state === PeerState.OFFLINE);
      expect(wills.length).toBeGreaterThan(0);
      expect(wills.every((w) => w.message.reason === "")).toBe(true);
      const sessions = [...seqsBySession(watcher.seen, id).entries()];
      for (let i = 1; i < sessions.length; i++)
        expect(sessions[i]?.[0]).toBeGreaterThan(sessions[i - 1]?.[0] ?? 0n);
      for (const [, seqs] of sessions) expect(isRunFromOne(seqs)).toBe(true);
    }
    const stats = sim.stats();
    expect(stats.reconnects).toBeGreaterThanOrEqual(5);
    expect(stats.errors).toBe(0);
  }, 20_000);

  it("reconnects a node the broker threw out, with a new session", async () => {
    const { broker, watcher, sim } = await setup({ backoff: { initialMs: 100, maxMs: 200 } });
    expect(await sim.waitForConnected(N, 5_000)).toBe(true);
    const victim = sim.nodeIds[3] as string;
    const client = (broker.broker as unknown as { clients: Record<string, { close(): void }> }).clients[
      `k3s-fleet-agent-${victim}`
    ];
    client?.close();
    await until(
      () => watcher.seen.filter((s) => s.kind === "birth" && s.nodeId === victim).length === 2,
      5_000,
      "rebirth",
    );
    const births = watcher.seen.filter((s) => s.kind === "birth" && s.nodeId === victim);
    expect(births[1]?.message.session).toBeGreaterThan(births[0]?.message.session ?? 0n);
    const stats = sim.stats();
    expect(stats.reconnects).toBe(1);
    expect(stats.errorsByCode).toEqual({ K3SF_ERR_SIM_CLOSED: 1 });
  }, 20_000);
});
