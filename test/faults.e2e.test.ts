// Faults survived, nothing lost (issue 5). Real brokers on loopback (Mosquitto processes killed with
// SIGKILL and started again on the same port, the embedded aedes), the real agent (in-process and as a CLI
// child killed with SIGKILL), the real coordinator (in-process, and as a CLI child killed with SIGKILL).
// Delivery is checked on what the coordinator actually received: every sample the agent took arrives, and
// after dropping exact repeats every (session, seq) names one sample and each session runs 1..max.
// Measured figures are printed as `[faults] {...}` lines; docs/reliability.md records them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../agent/agent.ts";
import { bufferPath } from "../agent/buffer-store.ts";
import { startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { type RunningCoordinator, startCoordinator } from "../coordinator/fleet/fleet-service.ts";
import { decode, type FleetReport, NodeHealth, PeerState, topicsFor } from "../proto/index.ts";
import { startSimulation } from "../simulator/index.ts";
import { bufferedSamples } from "./support/buffer-file.ts";
import { type CliProcess, runCli } from "./support/cli.ts";
import {
  AGENT_DEFAULTS,
  BUFFER_DEFAULTS,
  COORDINATOR_DEFAULTS,
  EMBEDDED_BROKER_DEFAULTS,
} from "./support/defaults.ts";
import { createFakeSource } from "./support/fake-source.ts";
import { startMosquitto } from "./support/mosquitto.ts";
import { connectPlainNode } from "./support/plain-node.ts";
import { type RestartableMosquitto, startRestartableMosquitto } from "./support/restartable-mosquitto.ts";
import { relay } from "./support/tcp-relay.ts";
import { TelemetryLedger } from "./support/telemetry-ledger.ts";
import { until } from "./support/until.ts";

const ROOT = "faults/v1";
const topics = topicsFor(ROOT);
const silent = pino({ level: "silent" });
const INTERVAL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const report = (figures: Record<string, unknown>) => console.info(`[faults] ${JSON.stringify(figures)}`);

/** Undo stack: whatever a test started is stopped even when it fails half-way. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {}
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "k3sf-faults-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function coordinatorOn(
  url: string,
  clientId: string,
  extra: { defaultIntervalMs?: number; offlineAfterIntervals?: number; staleAfterIntervals?: number } = {},
) {
  const coordinator = await startCoordinator({
    ...COORDINATOR_DEFAULTS,
    brokerUrl: url,
    topicRoot: ROOT,
    clientId,
    reportIntervalMs: 60_000,
    defaultIntervalMs: extra.defaultIntervalMs ?? INTERVAL_MS,
    // Offline must come from Wills in these tests, not from intervals missed while a broker is down.
    offlineAfterIntervals: extra.offlineAfterIntervals ?? 100_000,
    staleAfterIntervals: extra.staleAfterIntervals ?? 50_000,
    keepaliveSeconds: 5,
    logger: silent,
  });
  cleanups.push(() => coordinator.stop());
  return coordinator;
}

async function bufferingAgent(url: string, nodeId: string, stateDir: string): Promise<RunningAgent> {
  const agent = await startAgent({
    ...AGENT_DEFAULTS,
    nodeId,
    brokerUrl: url,
    topicRoot: ROOT,
    intervalMs: INTERVAL_MS,
    keepaliveSeconds: 2,
    stateDir,
    source: createFakeSource({ stepMs: INTERVAL_MS }),
    buffer: { ...BUFFER_DEFAULTS },
    logger: silent,
  });
  cleanups.push(() => agent.stop());
  return agent;
}

function agentCli(url: string, nodeId: string, stateDir: string): CliProcess {
  const child = runCli([
    "agent",
    ...["--broker", url, "--topic-root", ROOT, "--node-name", nodeId],
    ...["--interval", `${INTERVAL_MS}ms`, "--keepalive", "1s", "--state-dir", stateDir],
  ]);
  cleanups.push(() => child.kill("SIGKILL"));
  return child;
}

function expectExactlyOnce(ledger: TelemetryLedger, samples: number) {
  const s = ledger.summary();
  expect(s.conflicts).toBe(0); // no (session, seq) names two samples
  for (const session of s.sessions) expect(session.holes, `holes in session ${session.session}`).toEqual([]);
  expect(s.distinct).toBe(samples); // every sample taken arrived
  expect(s.times.size).toBe(s.distinct); // and as one identity only
  return s;
}

describe("faults survived, nothing lost", () => {
  it("broker killed for 30 s mid-stream, then restarted on its port: every sample reaches the coordinator exactly once", async () => {
    const broker = await startRestartableMosquitto();
    cleanups.push(() => broker.close());
    const coordinator = await coordinatorOn(broker.url, "faults-coordinator-broker");
    const ledger = new TelemetryLedger(ROOT, "edge-broker");
    coordinator.onNodeMessage(ledger.handler);
    const agent = await bufferingAgent(broker.url, "edge-broker", await tempDir());

    await until(() => ledger.summary().distinct >= 8, 20_000, "a live stream");
    const sessionBefore = agent.session;
    await broker.kill("SIGKILL");
    const downAt = performance.now();
    await until(() => !agent.connected && !coordinator.link.connected, 10_000, "both to see the broker gone");
    await sleep(30_000 - (performance.now() - downAt)); // the fault under test: 30 s without a broker
    const whileDown = agent.outbox;
    expect(whileDown.pending).toBeGreaterThanOrEqual(60); // ~120 samples at 250 ms, fewer on a loaded machine
    await broker.start();
    const upAt = performance.now();
    await until(() => agent.connected && coordinator.link.connected, 60_000, "agent and coordinator back");
    const reconnectedAt = performance.now();
    await until(() => agent.outbox.pending === 0, 60_000, "the buffer drained");
    const drainedAt = performance.now();
    await agent.stop();
    await until(
      () => ledger.summary().distinct === agent.outbox.offered - agent.outbox.pending,
      10_000,
      "last acks",
    );

    const final = agent.outbox;
    expect(final.droppedByCount + final.droppedByAge + final.droppedOffline).toBe(0);
    expect(final.pending).toBe(0);
    const s = expectExactlyOnce(ledger, final.offered);
    expect(s.sessions.length).toBeGreaterThanOrEqual(2);
    expect(s.historical).toBeGreaterThanOrEqual(whileDown.pending);
    // The coordinator's own accounting agrees: what it dropped as duplicates is exactly the repeats.
    const node = coordinator.fleet.nodes.get("edge-broker");
    expect(node).toMatchObject({ received: s.received, duplicates: s.duplicates, gaps: 0 });
    // Jittered exponential backoff: a handful of attempts in 30 s (a fixed 1 s retry would make ~30).
    const attempts = Number(agent.session - sessionBefore);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(12);
    report({
      fault: "broker SIGKILL 30 s",
      samples: final.offered,
      bufferedWhileDown: whileDown.pending,
      received: s.received,
      duplicatesDropped: s.duplicates,
      replayedHistorical: s.historical,
      lost: final.offered - s.distinct,
      reconnectAttemptsWhileDown: attempts,
      reconnectAfterRestartMs: Math.round(reconnectedAt - upAt),
      drainedAfterRestartMs: Math.round(drainedAt - upAt),
      sessions: s.sessions.map((x) => `${x.session}:1..${x.max}`),
    });
  }, 180_000);

  it("agent SIGKILLed while buffering (coordinator offline), restarted: the buffered samples are still delivered", async () => {
    const broker = await startEmbeddedBroker({
      ...EMBEDDED_BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      logger: silent,
    });
    cleanups.push(() => broker.close());
    const stateDir = await tempDir();
    const first = await coordinatorOn(broker.url, "faults-coordinator-crash");
    const before = new TelemetryLedger(ROOT, "crashy");
    first.onNodeMessage(before.handler);
    const agent = agentCli(broker.url, "crashy", stateDir);
    await until(() => before.summary().distinct >= 6, 30_000, "a live stream from the agent process");

    // The coordinator goes away (retained OFFLINE): the agent holds everything in its buffer.
    await first.stop();
    const path = bufferPath(stateDir, "crashy");
    const unsent = () => bufferedSamples(path).filter((b) => b.session === null).length;
    await until(() => unsent() >= 12, 20_000, "samples piling up in the buffer");
    agent.kill("SIGKILL");
    await agent.exited;
    const killedAt = performance.now();
    const buffered = bufferedSamples(path);
    expect(buffered.filter((b) => b.session === null).length).toBeGreaterThanOrEqual(12);

    const second = await coordinatorOn(broker.url, "faults-coordinator-crash");
    const after = new TelemetryLedger(ROOT, "crashy");
    second.onNodeMessage(after.handler);
    const restarted = agentCli(broker.url, "crashy", stateDir);
    const restartedAt = performance.now();
    await until(() => buffered.every((b) => after.has(b.timeMs)), 30_000, "every buffered sample delivered");
    const deliveredAt = performance.now();

    // Replayed as historical; no identity names two samples and no session has a hole, across both runs.
    const replayed = after.entries.filter((e) => buffered.some((b) => b.timeMs === e.timeMs));
    expect(replayed.every((e) => e.historical)).toBe(true);
    const both = new TelemetryLedger(ROOT, "crashy");
    for (const e of [...before.entries, ...after.entries]) both.entries.push(e);
    const s = both.summary();
    expect(s.conflicts).toBe(0);
    for (const session of s.sessions)
      expect(session.holes, `holes in session ${session.session}`).toEqual([]);
    expect(second.fleet.nodes.get("crashy")?.gaps).toBe(0);
    restarted.kill("SIGTERM");
    await restarted.exited;
    report({
      fault: "agent SIGKILL while buffering",
      pendingAtKill: buffered.length,
      // Sampled while the coordinator was offline, never sent:
      neverSent: buffered.filter((b) => b.session === null).length,
      // Acknowledged by the broker shortly before the coordinator went away, so sent again:
      reopened: buffered.filter((b) => b.session !== null).length,
      lost: buffered.filter((b) => !after.has(b.timeMs)).length,
      deliveredAfterRestartMs: Math.round(deliveredAt - restartedAt),
      killToDeliveredMs: Math.round(deliveredAt - killedAt),
    });
  }, 120_000);

  it("coordinator SIGKILLed and restarted: fleet state (births and statuses, retained) back within 5 s, nothing lost", async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const sim = await startSimulation({
      brokerUrl: broker.url,
      nodes: 50,
      intervalMs: 1000,
      topicRoot: ROOT,
      prefix: "fleet",
      flapFraction: 0,
      logger: silent,
    });
    cleanups.push(() => sim.stop());
    expect(await sim.waitForConnected(50, 30_000)).toBe(true);
    const agent = await bufferingAgent(broker.url, "edge-coord", await tempDir());

    // A plain subscriber that never goes down: sees reports, coordinator statuses and the agent's telemetry.
    const watcher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 4,
      clientId: `faults-watch-${process.pid}`,
    });
    cleanups.push(() => watcher.endAsync(true));
    const ledger = new TelemetryLedger(ROOT, "edge-coord");
    const reports: { at: number; report: FleetReport }[] = [];
    const statuses: { at: number; state: PeerState; instanceId: string }[] = [];
    watcher.on("message", (topic, payload) => {
      const at = performance.now();
      if (topic === topics.report) {
        const r = decode("report", payload);
        if (r.ok) reports.push({ at, report: r.message });
      } else if (topic === topics.coordinatorStatus) {
        const r = decode("coordinatorStatus", payload);
        if (r.ok) statuses.push({ at, state: r.message.state, instanceId: r.message.instanceId });
      } else ledger.handler(topic, payload);
    });
    await watcher.subscribeAsync([topics.report, topics.coordinatorStatus, topics.telemetry("edge-coord")], {
      qos: 1,
    });

    const coordinatorArgs = [
      "coordinator",
      ...["--broker", broker.url, "--topic-root", ROOT, "--standalone", "--quiet"],
      ...["--report-interval", "250ms", "--keepalive", "2s"],
    ];
    const first = runCli(coordinatorArgs);
    cleanups.push(() => first.kill("SIGKILL"));
    const victim = sim.nodeIds[7] as string;
    sim.kill(victim); // one node dead by its Will: the rebuilt state must say OFFLINE for it too
    const healthOf = (r: FleetReport) =>
      new Map(r.nodes.map((n) => [n.nodeId, n.health === NodeHealth.OFFLINE ? "offline" : "up"]));
    const expected = new Map(
      [...sim.nodeIds, "edge-coord"].map((id) => [id, id === victim ? "offline" : "up"]),
    );
    const sameFleet = (r: FleetReport) => {
      const h = healthOf(r);
      return h.size === expected.size && [...expected].every(([id, state]) => h.get(id) === state);
    };
    await until(() => reports.some((r) => sameFleet(r.report)), 30_000, "the full fleet in a report");
    await until(() => agent.outbox.live >= 4, 30_000, "the agent streaming live to the coordinator");

    const killedAt = performance.now();
    first.kill("SIGKILL");
    await first.exited;
    const oldInstance = statuses.at(-1)?.instanceId;
    await until(() => statuses.at(-1)?.state === PeerState.OFFLINE, 10_000, "the coordinator's Will");
    const willAt = (statuses.at(-1)?.at ?? 0) - killedAt;
    await sleep(2_000); // the agent buffers meanwhile
    const held = agent.outbox.pending;

    const second = runCli(coordinatorArgs);
    cleanups.push(() => second.kill("SIGKILL"));
    const spawnedAt = performance.now();
    const online = await until(
      () =>
        statuses.find(
          (s) => s.at > spawnedAt && s.state === PeerState.ONLINE && s.instanceId !== oldInstance,
        ),
      30_000,
      "the new coordinator online",
    );
    const rebuilt = await until(
      () => reports.find((r) => r.at > online.at && sameFleet(r.report)),
      30_000,
      "the fleet rebuilt",
    );
    expect(rebuilt.at - online.at).toBeLessThanOrEqual(5_000);

    // The agent held its samples while the coordinator was gone and replays them to the new one.
    await until(() => agent.outbox.pending === 0 && agent.connected, 30_000, "the agent's buffer drained");
    await agent.stop();
    await until(() => ledger.summary().distinct === agent.outbox.offered, 10_000, "last acks");
    const s = expectExactlyOnce(ledger, agent.outbox.offered);
    const historicalSeen = ledger.entries.filter((e) => e.historical).length;
    expect(historicalSeen).toBeGreaterThanOrEqual(held);
    report({
      fault: "coordinator SIGKILL",
      nodes: expected.size,
      willAfterKillMs: Math.round(willAt),
      processStartMs: Math.round(online.at - spawnedAt),
      stateBackAfterConnectMs: Math.round(rebuilt.at - online.at),
      stateBackAfterSpawnMs: Math.round(rebuilt.at - spawnedAt),
      agentHeldWhileDown: held,
      agentLost: agent.outbox.offered - s.distinct,
      duplicatesDropped: s.duplicates,
      outbox: agent.outbox,
    });
  }, 150_000);

  it("a node whose Will never comes (the broker died with it) is OFFLINE after its missed intervals", async () => {
    const broker = await startRestartableMosquitto();
    cleanups.push(() => broker.close());
    const STALE = 4;
    const OFFLINE = 8;
    const coordinator = await coordinatorOn(broker.url, "faults-coordinator-silence", {
      staleAfterIntervals: STALE,
      offlineAfterIntervals: OFFLINE,
    });
    // A minimal node over plain mqtt.js: birth, ONLINE, a few samples, with a Will that will never be sent.
    const node = "ghost";
    const ghost = await connectPlainNode(broker.url, ROOT, node);
    cleanups.push(() => ghost.destroy());
    await ghost.announce(INTERVAL_MS);
    let lastSampleAt = 0;
    for (let seq = 1n; seq <= 4n; seq++) {
      if (seq > 1n) await sleep(INTERVAL_MS);
      await ghost.telemetry(seq);
      lastSampleAt = performance.now(); // PUBACK in: the coordinator has it (or is about to)
    }
    const health = () => coordinator.buildReportNow().nodes.find((n) => n.nodeId === node)?.health;
    await until(() => health() === NodeHealth.ONLINE, 10_000, "the node online");

    // The broker dies with the node's connection: no Will is ever published; the node never comes back.
    await broker.kill("SIGKILL");
    await broker.start();
    await until(() => coordinator.link.connected, 60_000, "the coordinator back");
    await until(() => health() === NodeHealth.OFFLINE, 30_000, "OFFLINE by missed intervals");
    const offlineAfterMs = performance.now() - lastSampleAt;
    expect(offlineAfterMs).toBeGreaterThanOrEqual(OFFLINE * INTERVAL_MS - 100); // not before its time
    expect(coordinator.fleet.nodes.get(node)?.offline).toBe(false); // no Will was ever seen
    report({
      fault: "Will never comes (broker died with the node)",
      bound: `${OFFLINE} intervals × ${INTERVAL_MS} ms`,
      offlineAfterLastSampleMs: Math.round(offlineAfterMs),
    });
  }, 120_000);

  it("a node behind a pulled cable is OFFLINE 1.5 × its keepalive after its last sample, Will or not", async () => {
    const broker = await startRestartableMosquitto();
    cleanups.push(() => broker.close());
    const KEEPALIVE_S = 2;
    // The interval rule alone would wait 40 × 250 ms = 10 s; Mosquitto sends the Will when it gets round to it.
    const coordinator = await coordinatorOn(broker.url, "faults-coordinator-cable", {
      staleAfterIntervals: 4,
      offlineAfterIntervals: 40,
    });
    const cable = await relay(broker.port);
    cleanups.push(() => cable.close());
    const node = "cable";
    const plain = await connectPlainNode(`mqtt://127.0.0.1:${cable.port}`, ROOT, node, 1n, {
      keepaliveSeconds: KEEPALIVE_S,
    });
    cleanups.push(() => plain.destroy());
    await plain.announce(INTERVAL_MS);
    let lastSampleAt = 0;
    for (let seq = 1n; seq <= 4n; seq++) {
      if (seq > 1n) await sleep(INTERVAL_MS);
      await plain.telemetry(seq);
      lastSampleAt = performance.now();
    }
    const state = () => coordinator.fleet.nodes.get(node);
    const health = () => coordinator.buildReportNow().nodes.find((n) => n.nodeId === node)?.health;
    await until(() => health() === NodeHealth.ONLINE, 10_000, "the node online");

    cable.blackhole();
    await until(() => health() === NodeHealth.OFFLINE, 15_000, "OFFLINE by keepalive silence");
    const offlineAfterMs = performance.now() - lastSampleAt;
    const willSeen = state()?.offline ?? false;
    expect(offlineAfterMs).toBeGreaterThanOrEqual(1.5 * KEEPALIVE_S * 1000 - 100);
    expect(offlineAfterMs).toBeLessThan(40 * INTERVAL_MS); // well before the interval rule
    report({
      fault: "cable pulled (no FIN, no Will yet)",
      bound: `1.5 × ${KEEPALIVE_S} s keepalive`,
      offlineAfterLastSampleMs: Math.round(offlineAfterMs),
      willAlreadyApplied: willSeen,
    });
  }, 60_000);

  it("1,000 agents dropped at once (broker SIGKILL) reconnect: all ONLINE again, the coordinator responsive throughout", async () => {
    const N = 1000;
    const broker: RestartableMosquitto = await startRestartableMosquitto();
    cleanups.push(() => broker.close());
    const coordinator: RunningCoordinator = await coordinatorOn(broker.url, "faults-coordinator-storm", {
      defaultIntervalMs: 5_000,
    });
    // The fleet runs in its own process, as 1,000 separate MQTT connections with Wills.
    const fleet = runCli(
      [
        "simulate",
        "-n",
        `${N}`,
        "--broker",
        broker.url,
        "--topic-root",
        ROOT,
        "--prefix",
        "storm",
        "--flap",
        "0",
      ],
      { K3S_FLEET_AGENT_INTERVAL: "5s", K3S_FLEET_BROKER_KEEPALIVE: "10s" },
    );
    cleanups.push(() => fleet.kill("SIGKILL"));

    // Responsiveness probe: a report built from the live state every 100 ms, and the event loop's delay.
    const latencies: number[] = [];
    let widestGapMs = 0;
    let lastProbe = performance.now();
    let stormReport: FleetReport = coordinator.buildReportNow();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const probe = setInterval(() => {
      const start = performance.now();
      widestGapMs = Math.max(widestGapMs, start - lastProbe);
      stormReport = coordinator.buildReportNow();
      lastProbe = performance.now();
      latencies.push(lastProbe - start);
    }, 100);
    cleanups.push(() => clearInterval(probe));
    const onlineNodes = () =>
      stormReport.nodes.filter((n) => n.nodeId.startsWith("storm-") && n.health === NodeHealth.ONLINE);

    await until(() => onlineNodes().length === N, 120_000, `${N} nodes online`);
    const sessions = new Map(onlineNodes().map((n) => [n.nodeId, n.session]));
    latencies.length = 0;
    widestGapMs = 0;
    loop.enable();

    await broker.kill("SIGKILL"); // every connection drops at once, Wills unsent (the broker died)
    const droppedAt = performance.now();
    await until(() => !coordinator.link.connected, 10_000, "the coordinator to notice");
    await broker.start();
    const upAt = performance.now();
    const back = () => onlineNodes().filter((n) => n.session > (sessions.get(n.nodeId) ?? 0n)).length;
    await until(() => back() === N, 180_000, `${N} nodes back in new sessions`);
    const recoveredAt = performance.now();
    loop.disable();
    clearInterval(probe);

    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    const max = sorted.at(-1) ?? 0;
    expect(latencies.length).toBeGreaterThan(10);
    expect(max).toBeLessThan(1_000); // a full report of 1,000 nodes, built while the storm goes on
    expect(widestGapMs).toBeLessThan(2_000); // the event loop never stalled for long
    report({
      fault: `${N} agents dropped at once`,
      downMs: Math.round(upAt - droppedAt),
      allOnlineAfterRestartMs: Math.round(recoveredAt - upAt),
      reportLatencyP99Ms: Math.round(p99 * 10) / 10,
      reportLatencyMaxMs: Math.round(max * 10) / 10,
      probeGapMaxMs: Math.round(widestGapMs),
      eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
      eventLoopDelayMaxMs: Math.round(loop.max / 1e6),
      probes: latencies.length,
    });
    fleet.kill("SIGTERM");
    await fleet.exited;
  }, 360_000);
});
