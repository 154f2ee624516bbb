import type { Logger } from "pino";
import { REAL_TIMERS, type Timers } from "../common/timers.ts";
import { CONTRACT, createMessage, encode, PeerState, topicsFor } from "../proto/index.ts";
import { SimulatorError } from "./errors.ts";
import { DEFAULT_FLAP_OPTIONS, type FlapOptions, nextReturn } from "./flap.ts";
import { type FleetRun, fleetWireHandler } from "./fleet-handler.ts";
import {
  createSimNodes,
  FINAL,
  type FleetCounters,
  fleetStats,
  markFlappers,
  type SimNode,
  statusPublish,
} from "./fleet-nodes.ts";
import { LatencyHistogram, type LatencySummary } from "./latency.ts";
import { DEFAULT_MODEL_OPTIONS, type ModelOptions, reboot, step, telemetryInit } from "./model.ts";
import {
  given,
  resolveSimulationOptions,
  type SimulationOptions,
  simulationOptionProblems,
} from "./options.ts";
import { dueSlots, refill } from "./pacing.ts";
import { createRng, hashSeed } from "./rng.ts";
import { type ConnectOptions, type OutgoingPublish, parseBrokerUrl } from "./wire.ts";

export interface SimulationStats extends FleetCounters {
  nodes: number;
  /** Accepted by the broker and announced (birth + ONLINE): publishing. */
  connected: number;
  /** Connect sent, no CONNACK yet. */
  connecting: number;
  /** Waiting for their turn to connect, or for a reconnect backoff to pass. */
  waiting: number;
  /** Taken away on purpose: flapping or `kill()`ed. */
  down: number;
  /** QoS 1 publishes (telemetry and statuses) awaiting PUBACK now. */
  inflight: number;
  errorsByCode: Record<string, number>;
  /** PUBLISH → PUBACK round trips of telemetry, since the start or the last `stats({ resetLatency: true })`. */
  ackLatencyMs: LatencySummary;
}

export interface Simulation {
  readonly nodeIds: readonly string[];
  /** Counters so far; `resetLatency` starts a new PUBACK latency window after reading this one. */
  stats(options?: { resetLatency?: boolean }): SimulationStats;
  /** Resolves true once `count` nodes (default: all) are connected at the same time, false on timeout. */
  waitForConnected(count?: number, timeoutMs?: number): Promise<boolean>;
  /**
   * Drops a node abruptly, without DISCONNECT, so the broker publishes its Will. It stays down until
   * `revive()`, or for `returnAfterMs` when given. False for an unknown node id.
   */
  kill(nodeId: string, options?: { returnAfterMs?: number }): boolean;
  /** Brings a killed node back (new session, birth, ONLINE, seq from 1). */
  revive(nodeId: string): boolean;
  /** Each connected node publishes a retained OFFLINE status with `reason`, then disconnects. Idempotent. */
  stop(reason?: string): Promise<void>;
}

const MAX_QUEUED_BYTES = 64 * 1024;

/** The session for a node's next connect: a millisecond timestamp, so it grows across simulator restarts too. */
export function nextSession(previous: bigint, nowMs: number): bigint {
  const candidate = BigInt(Math.floor(nowMs));
  return candidate > previous ? candidate : previous + 1n;
}

export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  const problems = simulationOptionProblems(options);
  if (problems.length > 0) {
    throw new SimulatorError("K3SF_ERR_SIM_OPTIONS", `invalid simulation options: ${problems.join("; ")}`, {
      problems,
    });
  }
  const o = resolveSimulationOptions(options);
  const broker = parseBrokerUrl(o.brokerUrl) as { host: string; port: number };
  const log = o.logger.child({ module: "simulator" });
  const now = o.now ?? Date.now;
  const monotonic = o.monotonic ?? (() => performance.now());
  const timers = o.timers ?? REAL_TIMERS;
  const model: ModelOptions = { ...DEFAULT_MODEL_OPTIONS, ...given(o.model) };
  const flap: FlapOptions = { ...DEFAULT_FLAP_OPTIONS, ...given(o.flap), fraction: o.flapFraction };
  const topics = topicsFor(o.topicRoot);
  const backoffRandom = createRng(hashSeed(o.seed, "backoff"));
  const random = () => backoffRandom.next();

  const run: FleetRun = {
    stopping: false,
    ackLatency: new LatencyHistogram(),
    counters: { published: 0, acked: 0, lost: 0, skipped: 0, lagged: 0, births: 0, reconnects: 0, errors: 0 },
    errorsByCode: {},
  };
  const { counters, errorsByCode } = run;

  const status = (node: SimNode, state: PeerState, reason: string) =>
    statusPublish(node, state, reason, now());

  const waiting = new Set<SimNode>();
  const handler = fleetWireHandler({ run, o, log, now, monotonic, flap, random, waiting });

  const nodes = createSimNodes(
    { count: o.nodes, seed: o.seed, prefix: o.prefix, topics, wallStartMs: now() },
    handler,
  );
  const byId = new Map(nodes.map((node) => [node.profile.nodeId, node]));
  const flappers = markFlappers(nodes, o.seed, flap.fraction);

  // Connect queue (FIFO with a moving head) and nodes sleeping until `wakeAtMs`.
  const queue: SimNode[] = [...nodes];
  let head = 0;
  const enqueue = (node: SimNode) => {
    node.phase = "queued";
    queue.push(node);
  };

  const connectOptions: Omit<ConnectOptions, "clientId" | "will"> = {
    host: broker.host,
    port: broker.port,
    keepaliveSeconds: o.keepaliveSeconds,
    connectTimeoutMs: o.connectTimeoutMs,
    username: o.username,
    password: o.password,
  };
  const startConnect = (node: SimNode, t: number) => {
    node.session = nextSession(node.session, now());
    node.seq = 0;
    node.phase = "connecting";
    node.conn.connect(
      { ...connectOptions, clientId: node.clientId, will: status(node, PeerState.OFFLINE, "") },
      t,
    );
  };

  const takeDown = (node: SimNode, wakeAtMs: number) => {
    const live = node.phase === "online" || node.phase === "connecting";
    node.phase = "down";
    node.wakeAtMs = wakeAtMs;
    if (Number.isFinite(wakeAtMs)) waiting.add(node);
    else waiting.delete(node);
    if (live) node.conn.kill();
  };

  const publishTelemetry = (node: SimNode, t: number) => {
    if (node.phase !== "online") return;
    const conn = node.conn;
    if (conn.inflight >= o.maxInflight || conn.queuedBytes > MAX_QUEUED_BYTES) {
      counters.skipped += 1;
      return;
    }
    const wall = now();
    node.machine = step(node.profile, node.machine, wall, model);
    node.seq += 1;
    const seq = BigInt(node.seq);
    const message = createMessage(
      "telemetry",
      telemetryInit(node.profile, node.machine, { session: node.session, seq, nowMs: wall, online: true }),
    );
    const id = conn.publish(
      {
        topic: node.telemetryTopic,
        payload: encode("telemetry", message),
        qos: o.telemetryQos,
        retain: CONTRACT.telemetry.retain,
      },
      t,
    );
    if (id < 0) return;
    counters.published += 1;
    o.onPublish?.({ nodeId: node.profile.nodeId, session: node.session, seq, timeMs: wall });
  };

  const origin = monotonic();
  const burst = Math.max(1, o.connectRate / 10);
  let tokens = 1;
  let lastTickAt = origin;
  let lastServiceAt = origin;
  let slotsDone = 0;
  let timer: unknown;
  let allConnectedLogged = false;

  const tick = () => {
    timer = undefined;
    if (run.stopping) return;
    try {
      advance(monotonic());
    } catch (error) {
      // One bad step must not stop the fleet: log it and carry on with the next tick.
      log.error({ err: error }, "simulation tick failed");
    }
    timer = timers.setTimeout(tick, o.tickMs);
  };

  const advance = (t: number) => {
    for (const node of waiting) {
      if (t < node.wakeAtMs) continue;
      waiting.delete(node);
      if (node.phase === "down" && node.flap?.rebootOnReturn) {
        node.machine = reboot(node.profile, node.machine, now());
      }
      enqueue(node);
    }

    tokens = refill(tokens, t - lastTickAt, o.connectRate, burst);
    lastTickAt = t;
    while (tokens >= 1 && head < queue.length) {
      const node = queue[head++] as SimNode;
      if (node.phase !== "queued") continue; // killed while queued
      tokens -= 1;
      startConnect(node, t);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }

    for (const node of flappers) {
      const f = node.flap;
      if (!f || node.phase !== "online" || t < f.dropAtMs) continue;
      const back = nextReturn(f.rng, t, flap);
      f.rebootOnReturn = back.reboot;
      log.debug({ node: node.profile.nodeId, backInMs: Math.round(back.atMs - t) }, "virtual node drops off");
      takeDown(node, back.atMs);
    }

    const due = dueSlots(slotsDone, t - origin, o.intervalMs, o.nodes);
    counters.lagged += due.skipped;
    slotsDone = due.to; // first, so a sample that throws is not retried forever
    for (let slot = due.from; slot < due.to; slot++) publishTelemetry(nodes[slot % o.nodes] as SimNode, t);

    if (t - lastServiceAt >= 1_000) {
      lastServiceAt = t;
      for (const node of nodes) node.conn.service(t);
      if (!allConnectedLogged && nodes.every((n) => n.everConnected)) {
        allConnectedLogged = true;
        log.info({ nodes: o.nodes, ms: Math.round(t - origin) }, "every virtual node has connected");
      }
    }
  };

  const stats = (statsOptions?: { resetLatency?: boolean }): SimulationStats => {
    const latency = run.ackLatency.summary();
    if (statsOptions?.resetLatency) run.ackLatency = new LatencyHistogram();
    return fleetStats(nodes, counters, errorsByCode, latency);
  };

  const until = (done: () => boolean, timeoutMs: number) => pollUntil(done, timeoutMs, monotonic, timers);

  let stopped: Promise<void> | undefined;
  const stop = async (reason: string) => {
    run.stopping = true;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    waiting.clear();
    await closeNodes(nodes, { reason, status, until, monotonic, stopTimeoutMs: o.stopTimeoutMs, log });
    log.info({ reason, ...stats() }, "simulation stopped");
  };

  log.info(
    {
      nodes: o.nodes,
      intervalMs: o.intervalMs,
      broker: o.brokerUrl,
      flappers: flappers.length,
      seed: o.seed,
    },
    "simulation started",
  );
  tick();

  return {
    nodeIds: nodes.map((n) => n.profile.nodeId),
    stats,
    waitForConnected: (count = o.nodes, timeoutMs = 60_000) =>
      until(() => nodes.reduce((sum, n) => sum + (n.phase === "online" ? 1 : 0), 0) >= count, timeoutMs),
    kill(nodeId, killOptions) {
      const node = byId.get(nodeId);
      if (!node || run.stopping) return false;
      const back = killOptions?.returnAfterMs;
      takeDown(node, back === undefined ? Infinity : monotonic() + back);
      return true;
    },
    revive(nodeId) {
      const node = byId.get(nodeId);
      if (!node || run.stopping || node.phase !== "down") return false;
      waiting.delete(node);
      enqueue(node);
      return true;
    },
    stop(reason = "simulator stopped") {
      stopped ??= stop(reason);
      return stopped;
    },
  };
}

/** Polls `done` every 20 ms until it holds (true) or `timeoutMs` passed (false). */
async function pollUntil(
  done: () => boolean,
  timeoutMs: number,
  monotonic: () => number,
  timers: Timers,
): Promise<boolean> {
  const deadline = monotonic() + timeoutMs;
  while (!done()) {
    if (monotonic() >= deadline) return false;
    await new Promise<void>((resolve) => timers.setTimeout(resolve, 20));
  }
  return true;
}

/**
 * Each online node publishes a retained OFFLINE status with `reason` (a connecting one is dropped: its Will
 * says OFFLINE); once the broker confirmed them (or `stopTimeoutMs` passed) all disconnect, and whoever is
 * still open after another `stopTimeoutMs` is killed.
 */
async function closeNodes(
  nodes: readonly SimNode[],
  ctx: {
    reason: string;
    status: (node: SimNode, state: PeerState, reason: string) => OutgoingPublish;
    until: (done: () => boolean, timeoutMs: number) => Promise<boolean>;
    monotonic: () => number;
    stopTimeoutMs: number;
    log: Logger;
  },
): Promise<void> {
  const { until } = ctx;
  const t = ctx.monotonic();
  for (const node of nodes) {
    if (node.phase === "online") {
      node.controlIds[FINAL] = Math.max(
        0,
        node.conn.publish(ctx.status(node, PeerState.OFFLINE, ctx.reason), t),
      );
    } else if (node.phase === "connecting") {
      node.conn.kill(); // its Will, if the broker got the CONNECT, says OFFLINE
    } else {
      node.phase = "stopped";
    }
  }
  const confirmed = await until(
    () => nodes.every((n) => n.controlIds[FINAL] === 0 || n.conn.state === "idle"),
    ctx.stopTimeoutMs,
  );
  if (!confirmed) ctx.log.warn("broker did not confirm every OFFLINE status in time");
  for (const node of nodes) node.conn.disconnect();
  const closed = await until(() => nodes.every((n) => n.conn.state === "idle"), ctx.stopTimeoutMs);
  if (!closed) for (const node of nodes) node.conn.kill();
  await until(() => nodes.every((n) => n.conn.state === "idle"), 1_000);
}
