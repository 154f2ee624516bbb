// The fleet simulator: N virtual agents in one process, each with its own MQTT connection, client id,
// session, Will, birth and seq, publishing the model's telemetry. One timer drives them all: it meters
// connects (token bucket), spreads publications evenly over the interval, drops and revives flapping nodes,
// and services keepalives once a second. Per node it keeps a profile, a machine state and a Connection.
import { AGENT_VERSION } from "../agent/version.ts";
import { type Backoff, createBackoff } from "../common/backoff.ts";
import { REAL_TIMERS } from "../common/timers.ts";
import {
  CONTRACT,
  createMessage,
  encode,
  type MessageOf,
  PeerState,
  timestamp,
  topicsFor,
} from "../proto/index.ts";
import { SimulatorError } from "./errors.ts";
import {
  DEFAULT_FLAP_OPTIONS,
  type FlapOptions,
  flappingNodes,
  flapRng,
  nextDrop,
  nextReturn,
} from "./flap.ts";
import { LatencyHistogram, type LatencySummary } from "./latency.ts";
import { birthInit, type MachineProfile, machineProfile } from "./machine.ts";
import {
  DEFAULT_MODEL_OPTIONS,
  initialState,
  type MachineState,
  type ModelOptions,
  reboot,
  step,
  telemetryInit,
} from "./model.ts";
import {
  given,
  resolveSimulationOptions,
  type SimulationOptions,
  simulationOptionProblems,
} from "./options.ts";
import { dueSlots, refill } from "./pacing.ts";
import { createRng, hashSeed, type Rng } from "./rng.ts";
import {
  Connection,
  type ConnectOptions,
  type OutgoingPublish,
  parseBrokerUrl,
  type WireHandler,
} from "./wire.ts";

export interface SimulationStats {
  nodes: number;
  /** Accepted by the broker and announced (birth + ONLINE): publishing. */
  connected: number;
  /** Connect sent, no CONNACK yet. */
  connecting: number;
  /** Waiting for their turn to connect, or for a reconnect backoff to pass. */
  waiting: number;
  /** Taken away on purpose: flapping or `kill()`ed. */
  down: number;
  /** Telemetry messages written to sockets. */
  published: number;
  /** Telemetry PUBACKs received (QoS 1). */
  acked: number;
  /** QoS 1 publishes (telemetry and statuses) awaiting PUBACK now. */
  inflight: number;
  /** Telemetry in flight when its connection dropped: never acknowledged. */
  lost: number;
  /** Samples not published because the node's in-flight window was full or its socket backed up. */
  skipped: number;
  /** Node slots given up because the timer fell more than a whole interval behind. */
  lagged: number;
  /** Connections accepted (each announced with birth + ONLINE). */
  births: number;
  /** Connections accepted after a node's first one. */
  reconnects: number;
  /** Connection failures: refused, timeouts, socket errors, closes the simulator did not ask for. */
  errors: number;
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

type Phase = "queued" | "connecting" | "online" | "retrying" | "down" | "stopped";

interface SimNode {
  readonly profile: MachineProfile;
  readonly clientId: string;
  readonly birthTopic: string;
  readonly telemetryTopic: string;
  readonly statusTopic: string;
  readonly conn: Connection<SimNode>;
  phase: Phase;
  machine: MachineState;
  session: bigint;
  seq: number;
  everConnected: boolean;
  backoff: Backoff | undefined;
  /** Monotonic time to leave `retrying` or `down` (Infinity: until revived). */
  wakeAtMs: number;
  /** Packet ids of this connection's birth, ONLINE and final OFFLINE, 0 once acknowledged. */
  controlIds: [number, number, number];
  flap: { rng: Rng; dropAtMs: number; rebootOnReturn: boolean } | undefined;
}

const FINAL = 2;
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

  const counters = {
    published: 0,
    acked: 0,
    lost: 0,
    skipped: 0,
    lagged: 0,
    births: 0,
    reconnects: 0,
    errors: 0,
  };
  const errorsByCode: Record<string, number> = {};
  let ackLatency = new LatencyHistogram();
  let stopping = false;

  const control = <K extends "birth" | "nodeStatus">(
    kind: K,
    topic: string,
    message: MessageOf<K>,
  ): OutgoingPublish => ({
    topic,
    payload: encode(kind, message),
    qos: CONTRACT[kind].qos,
    retain: CONTRACT[kind].retain,
  });
  const status = (node: SimNode, state: PeerState, reason: string) =>
    control(
      "nodeStatus",
      node.statusTopic,
      createMessage("nodeStatus", { state, session: node.session, time: timestamp(now()), reason }),
    );

  const handler: WireHandler<SimNode> = {
    connected(conn) {
      const node = conn.owner;
      if (stopping) {
        conn.disconnect();
        return;
      }
      node.phase = "online";
      counters.births += 1;
      if (node.everConnected) counters.reconnects += 1;
      node.everConnected = true;
      node.backoff?.reset();
      const t = monotonic();
      const birth = createMessage(
        "birth",
        birthInit(node.profile, {
          session: node.session,
          nowMs: now(),
          intervalMs: o.intervalMs,
          keepaliveSeconds: o.keepaliveSeconds,
          agentVersion: AGENT_VERSION,
          labels: o.labels,
        }),
      );
      // Birth, then ONLINE, then telemetry: subscribers learn the facts before the first sample.
      conn.batch(() => {
        node.controlIds[0] = Math.max(0, conn.publish(control("birth", node.birthTopic, birth), t));
        node.controlIds[1] = Math.max(0, conn.publish(status(node, PeerState.ONLINE, ""), t));
      });
      if (node.flap) node.flap.dropAtMs = nextDrop(node.flap.rng, t, flap);
      log.debug({ node: node.profile.nodeId, session: `${node.session}` }, "virtual node online");
    },
    acked(conn, packetId, sentAtMs) {
      const ids = conn.owner.controlIds;
      const which = ids.indexOf(packetId);
      if (which >= 0) {
        ids[which] = 0;
        return;
      }
      counters.acked += 1;
      ackLatency.record(monotonic() - sentAtMs);
    },
    closed(conn, error) {
      const node = conn.owner;
      const pendingControl = node.controlIds.filter((id) => id > 0).length;
      counters.lost += Math.max(0, conn.inflight - pendingControl);
      node.controlIds.fill(0);
      if (stopping) {
        node.phase = "stopped";
        return;
      }
      if (node.phase === "down") return; // killed on purpose
      const code = (error as { code?: string } | undefined)?.code ?? "K3SF_ERR_SIM_CLOSED";
      counters.errors += 1;
      errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
      if (errorsByCode[code] === 1) {
        log.warn(
          { err: error, code, node: node.profile.nodeId },
          "virtual node lost its connection (first of its kind)",
        );
      }
      node.backoff ??= createBackoff(o.backoff, random);
      node.phase = "retrying";
      node.wakeAtMs = monotonic() + node.backoff.next();
      waiting.add(node);
    },
  };

  const wallStart = now();
  const nodes: SimNode[] = [];
  const byId = new Map<string, SimNode>();
  for (let index = 0; index < o.nodes; index++) {
    const profile = machineProfile(o.seed, index, o.prefix);
    const id = profile.nodeId;
    const node: SimNode = {
      profile,
      clientId: `k3s-fleet-agent-${id}`,
      birthTopic: topics.birth(id),
      telemetryTopic: topics.telemetry(id),
      statusTopic: topics.nodeStatus(id),
      conn: undefined as unknown as Connection<SimNode>,
      phase: "queued",
      machine: initialState(profile, wallStart, o.seed),
      session: 0n,
      seq: 0,
      everConnected: false,
      backoff: undefined,
      wakeAtMs: 0,
      controlIds: [0, 0, 0],
      flap: undefined,
    };
    (node as { conn: Connection<SimNode> }).conn = new Connection(node, handler);
    nodes.push(node);
    byId.set(id, node);
  }
  const flappers = flappingNodes(o.seed, o.nodes, flap.fraction).map((index) => {
    const node = nodes[index] as SimNode;
    node.flap = { rng: flapRng(o.seed, index), dropAtMs: Infinity, rebootOnReturn: false };
    return node;
  });

  // Connect queue (FIFO with a moving head) and nodes sleeping until `wakeAtMs`.
  const queue: SimNode[] = [...nodes];
  let head = 0;
  const waiting = new Set<SimNode>();
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
    if (stopping) return;
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
    const phases: Record<Phase, number> = {
      queued: 0,
      connecting: 0,
      online: 0,
      retrying: 0,
      down: 0,
      stopped: 0,
    };
    let inflight = 0;
    for (const node of nodes) {
      phases[node.phase] += 1;
      inflight += node.conn.inflight;
    }
    const latency = ackLatency.summary();
    if (statsOptions?.resetLatency) ackLatency = new LatencyHistogram();
    return {
      nodes: o.nodes,
      connected: phases.online,
      connecting: phases.connecting,
      waiting: phases.queued + phases.retrying,
      down: phases.down,
      ...counters,
      inflight,
      errorsByCode: { ...errorsByCode },
      ackLatencyMs: latency,
    };
  };

  const sleep = (ms: number) => new Promise<void>((resolve) => timers.setTimeout(resolve, ms));
  const until = async (done: () => boolean, timeoutMs: number): Promise<boolean> => {
    const deadline = monotonic() + timeoutMs;
    while (!done()) {
      if (monotonic() >= deadline) return false;
      await sleep(20);
    }
    return true;
  };

  let stopped: Promise<void> | undefined;
  const stop = async (reason: string) => {
    stopping = true;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    const t = monotonic();
    for (const node of nodes) {
      if (node.phase === "online") {
        node.controlIds[FINAL] = Math.max(0, node.conn.publish(status(node, PeerState.OFFLINE, reason), t));
      } else if (node.phase === "connecting") {
        node.conn.kill(); // its Will, if the broker got the CONNECT, says OFFLINE
      } else {
        node.phase = "stopped";
      }
    }
    waiting.clear();
    const confirmed = await until(
      () => nodes.every((n) => n.controlIds[FINAL] === 0 || n.conn.state === "idle"),
      o.stopTimeoutMs,
    );
    if (!confirmed) log.warn("broker did not confirm every OFFLINE status in time");
    for (const node of nodes) node.conn.disconnect();
    const closed = await until(() => nodes.every((n) => n.conn.state === "idle"), o.stopTimeoutMs);
    if (!closed) for (const node of nodes) node.conn.kill();
    await until(() => nodes.every((n) => n.conn.state === "idle"), 1_000);
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
      if (!node || stopping) return false;
      const back = killOptions?.returnAfterMs;
      takeDown(node, back === undefined ? Infinity : monotonic() + back);
      return true;
    },
    revive(nodeId) {
      const node = byId.get(nodeId);
      if (!node || stopping || node.phase !== "down") return false;
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
