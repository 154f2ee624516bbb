// Bad input, tried at scale (issue 5): a seeded, bounded fuzz run over real loopback TCP against the embedded
// broker (auth hooks + limits at their defaults, refusedPublish "drop") and the coordinator, with a real agent.
//
// - 100,000 mutated payloads (K3SF_FUZZ_MESSAGES) on the telemetry, birth, status and schedule-request topics,
//   pipelined over 4 raw MQTT connections at QoS 0 (2 % QoS 1), each with its own seeded stream and nodes,
//   so what is sent, refused and routed repeats exactly for a seed;
// - 1,500 raw sockets (K3SF_FUZZ_RAW) writing mutated MQTT packets (CONNECT, PUBLISH, SUBSCRIBE, ...);
// - a "noisy" client flooding valid telemetry far over the per-client publish rate.
//
// Accounting, nothing vanishes uncounted: every fuzz message is refused by a broker limit (exactly the ones
// the limits predict) or routed; every message routed to the coordinator's filter is received by it, but for
// the ones aedes' dedupe drops (moscajs/aedes#994), which the test counts itself; in the coordinator
// received = applied + rejected (by reason); every routed schedule request decodes or counts as a decode
// error. The broker keeps accepting connections, the agent's seq keeps advancing in the coordinator during
// and after the flood, live memory does not grow and RSS levels off. Seed: K3SF_FUZZ_SEED (decimal or 0x-hex).
// Figures and findings: docs/reliability.md, "Bad input".
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Client } from "aedes";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../agent/agent.ts";
import { DROPPED_TOPIC, topicMatches } from "../coordinator/broker/auth/index.ts";
import { type SecuredBroker, startSecuredBroker } from "../coordinator/broker/embedded.ts";
import { publishRefusal, resolveLimits } from "../coordinator/broker/limits.ts";
import { type RunningCoordinator, startCoordinator } from "../coordinator/fleet/fleet-service.ts";
import { salvageEnvelope } from "../coordinator/placement/envelope.ts";
import { renderReport } from "../coordinator/report/render.ts";
import { decode, encode, topicsFor } from "../proto/index.ts";
import { createPacketFuzzer } from "./fuzz/packets.ts";
import { createPayloadFuzzer, type FuzzKind, type FuzzMessage } from "./fuzz/payloads.ts";
import { knownBugFilter } from "./fuzz/regressions.ts";
import { createRng, fuzzSeed } from "./fuzz/rng.ts";
import { connectPublisher, type RawOutcome, runRawSession } from "./fuzz/sockets.ts";
import { BROKER_DEFAULTS, COORDINATOR_DEFAULTS } from "./support/defaults.ts";
import { createFakeSource } from "./support/fake-source.ts";
import { telemetry } from "./support/fleet-messages.ts";

const DEFAULT_SEED = 0x6b337366; // "k3sf"
const SEED = fuzzSeed(process.env, DEFAULT_SEED);
const MESSAGES = Number(process.env.K3SF_FUZZ_MESSAGES ?? 100_000);
const PUBLISHERS = 4;
const BATCH = 250;
const RAW_SESSIONS = Number(process.env.K3SF_FUZZ_RAW ?? 1_500);
const RAW_CONCURRENCY = 8;
const NOISY_MESSAGES = 3_000;
const ROOT = "k3s-fleet/v1";
const AGENT = "fuzz-agent";
// Memory bounds, measured after a full GC. Live data (V8 heap in use + ArrayBuffers) must not grow with the
// volume: that is the leak check. RSS also holds what V8 and malloc keep after a burst (the young generation
// grown to its maximum, freed socket and payload buffers): it must level off, and stay under a ceiling.
const MAX_LIVE_GROWTH_MB = 32;
const MAX_RSS_GROWTH_MB = 256;
const MAX_RSS_GROWTH_SECOND_HALF_MB = 64;

const topics = topicsFor(ROOT);
const settings = resolveLimits(); // the defaults, as `k3s-fleet up` runs them
const payloadLimits: Record<FuzzKind, number> = {
  telemetry: settings.maxPayloadByTopic.telemetry,
  birth: settings.maxPayloadByTopic.birth,
  status: settings.maxPayloadByTopic.status,
  scheduleRequest: settings.maxPayloadByTopic.scheduleRequest,
};

type Group = "fuzz" | "noisy" | "raw" | "agent" | "coordinator" | "probe";
const groupOf = (client: Client | null): Group | undefined => {
  const id = client?.id;
  if (id === undefined) return undefined;
  if (id.startsWith("fuzz-pub-")) return "fuzz";
  if (id === "noisy") return "noisy";
  if (id.startsWith("raw-")) return "raw";
  if (id === "k3s-fleet-coordinator") return "coordinator";
  if (id.includes(AGENT)) return "agent";
  return "probe";
};

/** Lines logged at warn and above, by module: a flood of bad input must not become a flood of logs. */
function countingLogger() {
  const lines = new Map<string, number>();
  const logger = pino(
    { level: "warn" },
    {
      write(line: string) {
        // The innermost child's module (a child of a child repeats the key; the last one is the innermost).
        const module = [...line.matchAll(/"module":"([^"]+)"/g)].at(-1)?.[1] ?? "root";
        lines.set(module, (lines.get(module) ?? 0) + 1);
      },
    },
  );
  return { logger, lines };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

describe(`fuzz: bad input at scale (seed ${SEED}, 0x${SEED.toString(16)})`, () => {
  const { logger, lines } = countingLogger();
  let secured: SecuredBroker;
  let coordinator: RunningCoordinator;
  let agent: RunningAgent;
  // What the broker routed (its `publish` event) by client group: to the coordinator's subscription, to the
  // schedule-request topic, to the dropped topic (a refusal in drop mode), and elsewhere.
  const routed = new Map<string, number>();
  const bump = (key: string, n = 1) => routed.set(key, (routed.get(key) ?? 0) + n);
  const route = (group: string, where: string) => bump(`${group}:${where}`);
  const routedCount = (where: string, group?: string) => {
    let total = 0;
    for (const [key, n] of routed) {
      const [g, w] = key.split(":");
      if (w === where && (group === undefined || g === group)) total += n;
    }
    return total;
  };
  const brokerErrors = { client: 0, connection: 0 };
  // A schedule-request consumer in the broker process: the contract decoder, then the envelope salvage.
  const schedule = { received: 0, decoded: 0, decodeErrors: 0 };
  let coordinatorReconnects = 0;
  const nodeFilter = { emitted: 0, dedupeLost: 0, highest: 0 };

  beforeAll(async () => {
    secured = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 16 * 1024 * 1024,
      topicRoot: ROOT,
      refusedPublish: "drop",
      localClients: [],
      // The fuzz publishers measure decoding, not the rate limit: they are exempt like the coordinator.
      // Everyone else (agent, noisy client, raw sockets) gets the default 50 msg/s, burst 100.
      rateExempt: (client) => client.id.startsWith("fuzz-pub-"),
      logger: logger.child({ module: "broker" }),
    });
    const { aedes } = secured.broker;
    aedes.on("publish", (packet, client) => {
      const group = groupOf(client);
      if (group === undefined) return; // the broker's own ($SYS heartbeat)
      if (packet.topic === DROPPED_TOPIC) route(group, "dropped");
      else if (topicMatches(topics.filters.allNodes, packet.topic)) route(group, "node");
      else if (packet.topic === topics.scheduleRequest) route(group, "schedule");
      else route(group, "other");
    });
    // Everything mqemitter hands to the coordinator's filter, and what aedes' per-client dedupe then drops
    // for a client with that one subscription: a packet whose brokerCounter is not above the highest one
    // already forwarded (aedes lib/client.js dedupe; moscajs/aedes#994, #955). Counted here, because aedes
    // drops those silently.
    await new Promise<void>((resolve) =>
      aedes.subscribe(
        topics.filters.allNodes,
        (packet, cb) => {
          nodeFilter.emitted++;
          const counter = (packet as { brokerCounter?: number }).brokerCounter ?? 0;
          if (counter <= nodeFilter.highest) nodeFilter.dedupeLost++;
          else nodeFilter.highest = counter;
          cb();
        },
        () => resolve(),
      ),
    );
    aedes.on("clientError", () => brokerErrors.client++);
    aedes.on("connectionError", () => brokerErrors.connection++);
    await new Promise<void>((resolve) =>
      aedes.subscribe(
        topics.scheduleRequest,
        (packet, cb) => {
          schedule.received++;
          const payload = packet.payload as Buffer;
          const decoded = decode("scheduleRequest", payload);
          if (decoded.ok) schedule.decoded++;
          else {
            schedule.decodeErrors++;
            salvageEnvelope(payload);
          }
          cb();
        },
        () => resolve(),
      ),
    );
    coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: secured.broker.url,
      topicRoot: ROOT,
      clientId: "k3s-fleet-coordinator",
      // Reports are built, encoded and published every 250 ms from whatever the fuzz left in the fleet.
      reportIntervalMs: 250,
      staleAfterIntervals: 3,
      offlineAfterIntervals: 12,
      defaultIntervalMs: 1000,
      maxPayloadBytes: 64 * 1024,
      keepaliveSeconds: 30,
      logger: logger.child({ module: "coordinator" }),
    });
    // Reconnects of the coordinator's link after its first connect: none, unless it lost the broker.
    coordinator.link.on("connect", () => coordinatorReconnects++);
    agent = await startAgent({
      nodeId: AGENT,
      brokerUrl: secured.broker.url,
      topicRoot: ROOT,
      intervalMs: 100,
      keepaliveSeconds: 30,
      labels: {},
      stateDir: mkdtempSync(join(tmpdir(), "k3sf-fuzz-")),
      internet: { timeoutMs: 1000, everyMs: 30_000 },
      source: createFakeSource({ stepMs: 100 }),
      logger: logger.child({ module: "agent" }),
    });
    await waitUntil(() => agentSeq() >= 3, 15_000, "the agent's first samples");
  }, 60_000);

  afterAll(async () => {
    await agent?.stop("test over");
    await coordinator?.stop();
    await secured?.broker.close();
  });

  const agentSeq = () => coordinator.fleet.nodes.get(AGENT)?.latest?.seq ?? 0;

  it(`sends ${MESSAGES.toLocaleString("en")} mutated payloads and mutated MQTT packets: everything counted, nothing down`, async () => {
    await collectGarbage();
    const memoryBefore = process.memoryUsage();
    const rssBefore = memoryBefore.rss;
    const started = performance.now();
    const rng = createRng(SEED);

    // --- the payload flood: 4 pipelined publishers, each its own seeded stream and nodes -----------------
    const sent = { total: 0, byKind: new Map<string, number>(), byMutation: new Map<string, number>() };
    const predicted = new Map<string, number>(); // broker limit refusals the settings predict
    const skip = knownBugFilter();
    let skipped = 0;
    const flood = Array.from({ length: PUBLISHERS }, async (_, p) => {
      const fuzzer = createPayloadFuzzer(rng.fork(), {
        root: ROOT,
        nodeIds: Array.from({ length: 8 }, (_, i) => `fuzz-${p}-${i}`),
        payloadLimits,
      });
      const publisher = await connectPublisher(secured.broker.port, `fuzz-pub-${p}`);
      const quota = Math.floor(MESSAGES / PUBLISHERS) + (p < MESSAGES % PUBLISHERS ? 1 : 0);
      for (let done = 0; done < quota; ) {
        const batch: FuzzMessage[] = [];
        while (batch.length < BATCH && done < quota) {
          const m = fuzzer.next();
          if (skip(m)) {
            skipped++; // an open bug in someone else's code: see regressions.ts
            continue;
          }
          batch.push(m);
          done++;
          count(sent.byKind, m.kind);
          count(sent.byMutation, m.mutation);
          const refusal = publishRefusal(
            settings,
            ROOT,
            { topic: m.topic, payloadBytes: m.payload.length, bucket: undefined },
            0,
          );
          if (refusal) count(predicted, refusal.reason);
        }
        sent.total += batch.length;
        await publisher.publish(batch);
        await new Promise((r) => setImmediate(r)); // let the broker and coordinator in between batches
      }
      await publisher.ping(); // barrier: the broker has read all of it
      await publisher.close();
    });

    // --- mutated MQTT packets on raw sockets ------------------------------------------------------------
    const packets = createPacketFuzzer(rng.fork(), { root: ROOT });
    const raw = {
      sessions: 0,
      packets: 0,
      bytes: 0,
      closedByBroker: 0,
      timedOut: 0,
      mutations: new Map<string, number>(),
    };
    const rawRun = Array.from({ length: RAW_CONCURRENCY }, async () => {
      while (raw.sessions < RAW_SESSIONS) {
        raw.sessions++;
        const session = packets.session();
        raw.packets += session.mutations.length;
        for (const m of session.mutations) count(raw.mutations, m);
        for (const c of session.chunks) raw.bytes += c.length;
        const outcome: RawOutcome = await runRawSession(secured.broker.port, session);
        if (outcome.closedByBroker) raw.closedByBroker++;
        if (outcome.timedOut) raw.timedOut++;
      }
    });

    // --- a valid client far over the publish rate -------------------------------------------------------
    const noisy = (async () => {
      const publisher = await connectPublisher(secured.broker.port, "noisy");
      for (let seq = 1; seq <= NOISY_MESSAGES; seq += 100) {
        await publisher.publish(
          Array.from({ length: 100 }, (_, i) => ({
            topic: topics.telemetry("noisy"),
            payload: encode("telemetry", telemetry({ session: 1, seq: seq + i, timeMs: Date.now() })),
            qos: 0 as const,
            retain: false,
          })),
        );
      }
      await publisher.ping();
      await publisher.close();
    })();

    // --- while it runs: the agent's seq, new connections, reports, RSS ----------------------------------
    const seqAtStart = agentSeq();
    const watch = {
      seqAdvances: 0,
      lastSeq: seqAtStart,
      connects: 0,
      connectFailures: 0,
      peakRss: rssBefore,
      reports: 0,
    };
    let flooding = true;
    const rssByQuarter: number[] = [];
    const watcher = (async () => {
      while (flooding) {
        await sleep(500);
        const seq = agentSeq();
        if (seq > watch.lastSeq) watch.seqAdvances++;
        watch.lastSeq = seq;
        watch.peakRss = Math.max(watch.peakRss, process.memoryUsage().rss);
        // RSS after a full GC at each quarter of the flood: it must level off, not grow with the volume.
        if (sent.total >= (rssByQuarter.length + 1) * (MESSAGES / 4) && rssByQuarter.length < 3) {
          await collectGarbage();
          rssByQuarter.push(process.memoryUsage().rss);
        }
        renderReport(coordinator.buildReportNow());
        watch.reports++;
        if (await canConnect(secured.broker.url)) watch.connects++;
        else watch.connectFailures++;
      }
    })();

    await Promise.all([...flood, ...rawRun, noisy]);
    const floodMs = performance.now() - started;
    const seqAtFloodEnd = agentSeq();
    flooding = false;
    await watcher;

    // --- accounting -------------------------------------------------------------------------------------
    const routedNodes = () => routedCount("node");
    const converged = await settled(
      () =>
        coordinator.counters().received === nodeFilter.emitted - nodeFilter.dedupeLost &&
        schedule.received === routedCount("schedule"),
      30_000,
    );
    const offline = await offlineQueues(secured, raw.sessions);
    // After the flood: the agent keeps reporting, the broker takes new clients.
    const agentAfter = await settled(() => agentSeq() >= seqAtFloodEnd + 5, 15_000);
    const connectsAfter = await canConnect(secured.broker.url);
    const beforeGc = process.memoryUsage();
    await collectGarbage();
    const memoryAfter = process.memoryUsage();
    if (process.env.K3SF_FUZZ_HEAPSNAPSHOT)
      (await import("node:v8")).writeHeapSnapshot(process.env.K3SF_FUZZ_HEAPSNAPSHOT);
    const rssAfter = memoryAfter.rss;
    const durationMs = performance.now() - started;

    const c = coordinator.counters();
    const rejected = Object.values(c.rejected).reduce((a, b) => a + (b ?? 0), 0);
    // Rejected after decoding (counted in `decoded` too): contract problems and impossible values.
    const invalid =
      (c.rejected.invalid ?? 0) +
      (c.rejected.non_finite ?? 0) +
      (c.rejected.out_of_range ?? 0) +
      (c.rejected.id_conflict ?? 0);
    const applied = c.decoded - invalid;
    const limitRefusals = secured.limitRefusals();
    const authRefusals = secured.refusals();
    const summary = {
      seed: SEED,
      command: "npx vitest run test/fuzz.test.ts",
      payloads: {
        sent: sent.total,
        skippedAsKnownBugs: skipped,
        byKind: Object.fromEntries(sent.byKind),
        byMutation: Object.fromEntries(sent.byMutation),
        refusedByBroker: routedCount("dropped", "fuzz"),
        routedToCoordinator: routedCount("node", "fuzz"),
        routedToScheduleConsumer: routedCount("schedule", "fuzz"),
        routedElsewhere: routedCount("other", "fuzz"),
      },
      broker: {
        limitRefusals,
        authRefusals,
        clientErrors: brokerErrors.client,
        connectionErrors: brokerErrors.connection,
        routedByGroup: Object.fromEntries(routed),
      },
      coordinator: { ...c, applied },
      aedesDedupeLost: nodeFilter.dedupeLost,
      offlineSessions: offline,
      scheduleConsumer: schedule,
      raw: { ...raw, mutations: Object.fromEntries(raw.mutations) },
      noisy: {
        sent: NOISY_MESSAGES,
        routed: routedCount("node", "noisy"),
        refused: routedCount("dropped", "noisy"),
      },
      converged,
      agent: { seqAtStart, seqAtFloodEnd, seqAfter: agentSeq(), advancesSeenDuringFlood: watch.seqAdvances },
      brokerConnectsDuringFlood: { ok: watch.connects, failed: watch.connectFailures },
      reportsBuiltDuringFlood: watch.reports,
      logLines: Object.fromEntries(lines),
      rssMb: {
        before: mb(rssBefore),
        afterQuarters: rssByQuarter.map(mb),
        peak: mb(watch.peakRss),
        after: mb(rssAfter),
        growth: mb(rssAfter - rssBefore),
        liveGrowth: mb(
          memoryAfter.heapUsed + memoryAfter.arrayBuffers - memoryBefore.heapUsed - memoryBefore.arrayBuffers,
        ),
      },
      memoryBeforeMb: {
        heapTotal: mb(memoryBefore.heapTotal),
        heapUsed: mb(memoryBefore.heapUsed),
        external: mb(memoryBefore.external),
        arrayBuffers: mb(memoryBefore.arrayBuffers),
      },
      memoryBeforeGcMb: {
        rss: mb(beforeGc.rss),
        heapUsed: mb(beforeGc.heapUsed),
        arrayBuffers: mb(beforeGc.arrayBuffers),
      },
      memoryAfterMb: {
        heapTotal: mb(memoryAfter.heapTotal),
        heapUsed: mb(memoryAfter.heapUsed),
        external: mb(memoryAfter.external),
        arrayBuffers: mb(memoryAfter.arrayBuffers),
      },
      agentGaps: coordinator.fleet.nodes.get(AGENT)?.gaps,
      fleetNodes: coordinator.fleet.nodes.size,
      floodMs: Math.round(floodMs),
      durationMs: Math.round(durationMs),
    };
    console.log(`fuzz summary ${JSON.stringify(summary, null, 2)}`);

    expect(converged, "the coordinator and the schedule consumer counted everything the broker routed").toBe(
      true,
    );
    expect(agentAfter, "the agent's seq advanced after the flood").toBe(true);
    expect(connectsAfter, "the broker accepts a new client after the flood").toBe(true);
    // Everything sent was counted somewhere, and the broker refused exactly what the limits predict.
    expect(sent.total).toBe(MESSAGES);
    expect(
      routedCount("dropped", "fuzz") +
        routedCount("node", "fuzz") +
        routedCount("schedule", "fuzz") +
        routedCount("other", "fuzz"),
    ).toBe(sent.total);
    expect(routedCount("dropped", "fuzz")).toBe([...predicted.values()].reduce((a, b) => a + b, 0));
    // Every refusal in drop mode is counted by the limits or by auth (which refuses `$` topics).
    const limitPublishRefusals =
      (limitRefusals.payload_too_large ?? 0) +
      (limitRefusals.topic_too_long ?? 0) +
      (limitRefusals.rate_limited ?? 0);
    expect(routedCount("dropped")).toBe(limitPublishRefusals + (authRefusals.publish_denied ?? 0));
    expect(limitRefusals.payload_too_large ?? 0).toBeGreaterThanOrEqual(
      predicted.get("payload_too_large") ?? 0,
    );
    expect(limitRefusals.topic_too_long ?? 0).toBeGreaterThanOrEqual(predicted.get("topic_too_long") ?? 0);
    // The coordinator counted every message routed to it: received = applied + rejected, no internal errors.
    expect(nodeFilter.emitted).toBe(routedNodes());
    expect(c.received).toBe(nodeFilter.emitted - nodeFilter.dedupeLost);
    // An empty birth or status clears the node (MQTT's delete of a retained message): counted apart.
    expect(c.received).toBe(applied + rejected + (c.cleared ?? 0));
    expect(c.rejected.internal ?? 0).toBe(0);
    expect(c.reportPublishFailures).toBe(0);
    expect(schedule.decoded + schedule.decodeErrors).toBe(schedule.received);
    // The rate limit held the noisy client to about its burst plus 50/s; the rest was refused and counted.
    expect(routedCount("node", "noisy") + routedCount("dropped", "noisy")).toBe(NOISY_MESSAGES);
    expect(routedCount("dropped", "noisy")).toBeGreaterThan(0);
    expect(limitRefusals.rate_limited ?? 0).toBeGreaterThanOrEqual(routedCount("dropped", "noisy"));
    // Up all along: the coordinator never lost its connection, the agent reported during and after.
    expect(coordinatorReconnects).toBe(0);
    expect(seqAtFloodEnd).toBeGreaterThan(seqAtStart);
    expect(agent.connected).toBe(true);
    expect(watch.connectFailures).toBe(0);
    // Raw sockets: each one ended, by the broker or after our half-close.
    expect(raw.sessions).toBe(RAW_SESSIONS);
    // Bounded memory and logs.
    const live = (m: NodeJS.MemoryUsage) => m.heapUsed + m.arrayBuffers;
    expect(live(memoryAfter) - live(memoryBefore)).toBeLessThan(MAX_LIVE_GROWTH_MB * 1024 * 1024);
    expect(rssAfter - rssBefore).toBeLessThan(MAX_RSS_GROWTH_MB * 1024 * 1024);
    expect(rssAfter - (rssByQuarter[1] ?? rssBefore)).toBeLessThan(
      MAX_RSS_GROWTH_SECOND_HALF_MB * 1024 * 1024,
    );
    const totalLines = [...lines.values()].reduce((a, b) => a + b, 0);
    expect(totalLines).toBeLessThan(5_000);
  }, 110_000);
});

/** Persistent sessions the raw sockets left behind, and the QoS ≥ 1 messages queued for them. */
async function offlineQueues(secured: SecuredBroker, sessions: number) {
  // aedes' persistence (in memory here) is a public property its typings leave out.
  const { persistence } = secured.broker.aedes as unknown as {
    persistence: {
      outgoingStream(client: { id: string }): AsyncIterable<{ payload?: Buffer | string }>;
      createRetainedStream(pattern: string): AsyncIterable<{ payload?: Buffer }>;
    };
  };
  let clients = 0;
  let messages = 0;
  let bytes = 0;
  for (let i = 0; i < sessions; i++) {
    let queued = 0;
    for await (const packet of persistence.outgoingStream({ id: `raw-${i}` })) {
      queued++;
      bytes += packet.payload?.length ?? 0;
    }
    if (queued > 0) clients++;
    messages += queued;
  }
  const retained = { messages: 0, payloadBytes: 0, pinnedBytes: 0 };
  const pinned = new Set<ArrayBufferLike>();
  for await (const packet of persistence.createRetainedStream("#")) {
    retained.messages++;
    retained.payloadBytes += packet.payload?.length ?? 0;
    if (packet.payload && !pinned.has(packet.payload.buffer)) {
      pinned.add(packet.payload.buffer);
      retained.pinnedBytes += packet.payload.buffer.byteLength;
    }
  }
  return {
    clientsWithQueues: clients,
    queuedMessages: messages,
    queuedMb: mb(bytes),
    retained: {
      messages: retained.messages,
      payloadMb: mb(retained.payloadBytes),
      pinnedMb: mb(retained.pinnedBytes),
    },
  };
}

// A full GC before each RSS reading, so it measures what is kept rather than garbage not yet collected.
setFlagsFromString("--expose-gc");
const fullGc = runInNewContext("gc") as () => void;

async function collectGarbage(): Promise<void> {
  fullGc();
  await sleep(200);
  fullGc();
}

function count(map: Map<string, number>, key: string) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until true or `timeoutMs` passes; the result, not an exception, so the summary still prints. */
async function settled(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function canConnect(url: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}
