// The per-node agent: samples the machine every interval and publishes the contract's messages over one
// MQTT link. Session hygiene à la Sparkplug: a new persisted session before every connect, a retained
// OFFLINE Will for it, and on every connect a retained birth and ONLINE status before any telemetry.
// With `buffer` set, telemetry is stored and forwarded (outbox-buffered.ts): it waits on disk while the
// broker or the coordinator is away and is replayed afterwards, marked historical.
import type { Logger } from "pino";
import type { Timers } from "../common/timers.ts";
import { contractPublish, type Link, type TlsOptions } from "../mqtt/link.ts";
import { decode, nodeIdProblem, PeerState, topicRootProblem, topicsFor } from "../proto/index.ts";
import { createAgentLink } from "./agent-link.ts";
import { createAgentOutbox, openAgentBuffer } from "./agent-outbox.ts";
import type { BufferStore, OpenBufferOptions } from "./buffer-store.ts";
import { AgentError } from "./errors.ts";
import { createFailureLog } from "./failure-log.ts";
import { createInternetProbe, type InternetProbe, parseHostPort } from "./health.ts";
import { installIdOf, loadInstallSeed, readMachineId } from "./identity.ts";
import type { Outbox, OutboxStats, Sequence, TelemetryLink } from "./outbox.ts";
import type { SampleSource, StaticFacts } from "./readings.ts";
import { createSystemSource } from "./sample-source.ts";
import { type SamplingStats, startSamplingLoop } from "./sampling-loop.ts";
import { createSessionCounter } from "./session-counter.ts";
import { openSessionStore } from "./session-store.ts";
import { type Counters, shapeTelemetry } from "./shape.ts";
import { AGENT_VERSION } from "./version.ts";

export type { SamplingStats };
export { AGENT_VERSION };

export interface AgentOptions {
  nodeId: string;
  brokerUrl: string;
  topicRoot: string;
  intervalMs: number;
  keepaliveSeconds: number;
  k8sNodeName?: string;
  labels: Record<string, string>;
  /** Directory for `<nodeId>.session` (and `<nodeId>.buffer.db` with `buffer`); created when missing. */
  stateDir: string;
  /** `target` undefined: the internet check is off and reported as false. */
  internet: { target?: string; timeoutMs: number; everyMs: number };
  mqtt?: { username?: string; password?: string; tls?: TlsOptions };
  logger: Logger;
  /** Wall clock for message timestamps. */
  now?: () => number;
  /** Monotonic clock for the sampling loop, rates and rate limits. */
  monotonic?: () => number;
  timers?: Timers;
  source?: SampleSource;
  /**
   * Store-and-forward in `<stateDir>/<nodeId>.buffer.db` (node:sqlite): samples wait while the broker or
   * the coordinator is away and are replayed, marked historical, afterwards. Unset: pass-through (send
   * while connected, drop otherwise).
   */
  buffer?: BufferOptions;
  /** The host's /proc, /sys and / (default: this process's); see SystemSourceOptions. */
  roots?: { procRoot?: string; sysRoot?: string; rootfs?: string };
  /** Where telemetry goes, overriding `buffer`. */
  outbox?: (link: TelemetryLink, sequence: Sequence) => Outbox;
  /** This install's id (identity.ts); default: from the state dir's seed, /etc/machine-id and the MACs. */
  installId?: string;
}

export interface BufferOptions {
  /** Pending samples kept at most; beyond it the oldest are dropped and counted. */
  maxSamples: number;
  /** Samples older than this are dropped and counted. */
  maxAgeMs: number;
  /** Buffered samples replayed per second at most, sent with the sampling ticks beside the live one. */
  replayPerSecond: number;
  /** true: send only while the coordinator's retained status says ONLINE; false: unless it says OFFLINE. */
  waitForCoordinator: boolean;
  /** Acknowledged samples sent again after a fault when acknowledged this recently; default 2 × keepalive, ≥ 20 s. */
  redeliverMs?: number;
  /** Wait after a new coordinator instance announces itself, so it has subscribed; default 1 s. */
  settleMs?: number;
  /** A buffer that could not be opened (full disk) is tried again this often; default 30 s. */
  retryMs?: number;
  /** Opens the buffer file (tests inject disk errors); default openBufferStore. */
  open?: (options: OpenBufferOptions) => BufferStore;
}

// The product settings above come resolved from the config schema (cli/config/defaults.ts agentSettings);
// the agent keeps no defaults of its own for them.

export interface RunningAgent {
  readonly nodeId: string;
  /** NodeBirth.install_id: which install of the node id this is. */
  readonly installId: string;
  /**
   * Settles when the agent stopped by itself: with a K3SF_ERR_NODE_ID_CONFLICT error when the coordinator
   * said another machine holds this node id. Never settles otherwise.
   */
  readonly fatal: Promise<AgentError>;
  /** Session of the current (or last) connection. */
  readonly session: bigint;
  /** Seq of the last telemetry published in this session (0 right after a connect). */
  readonly seq: bigint;
  /** Connected and announced: telemetry is being published. */
  readonly connected: boolean;
  /** What the outbox did so far: sent, replayed, pending in the buffer, dropped. */
  readonly outbox: OutboxStats;
  /** Samples taken and failed, and how long taking them took (for the agent's /metrics). */
  readonly sampling: SamplingStats;
  /** Publishes a retained OFFLINE status with `reason`, then disconnects. Idempotent. */
  stop(reason?: string): Promise<void>;
}

const STOP_TIMEOUT_MS = 5_000;
const BROKER_PROTOCOLS = new Set(["mqtt:", "mqtts:", "tcp:", "ssl:", "tls:", "ws:", "wss:"]);

/** Every problem with the options, empty when they are usable. */
export function agentOptionProblems(options: AgentOptions): string[] {
  const problems: string[] = [];
  const nodeProblem = nodeIdProblem(options.nodeId);
  if (nodeProblem) problems.push(nodeProblem);
  const rootProblem = topicRootProblem(options.topicRoot);
  if (rootProblem) problems.push(rootProblem);
  if (!URL.canParse(options.brokerUrl) || !BROKER_PROTOCOLS.has(new URL(options.brokerUrl).protocol)) {
    problems.push(`broker URL "${options.brokerUrl}" is not an mqtt://, mqtts://, ws:// or wss:// URL`);
  }
  if (!Number.isInteger(options.intervalMs) || options.intervalMs < 100) {
    problems.push(`interval ${options.intervalMs} ms is not a whole number of at least 100 ms`);
  }
  if (!Number.isInteger(options.keepaliveSeconds) || options.keepaliveSeconds < 0) {
    problems.push(`keepalive ${options.keepaliveSeconds} s is not a whole number ≥ 0`);
  }
  if (options.stateDir === "") problems.push("state directory is empty");
  const { target, timeoutMs, everyMs } = options.internet;
  if (target !== undefined && parseHostPort(target) === undefined) {
    problems.push(`internet target "${target}" is not host:port`);
  }
  if (!(timeoutMs > 0)) problems.push(`internet timeout ${timeoutMs} ms is not positive`);
  if (!(everyMs >= 0)) problems.push(`internet check interval ${everyMs} ms is negative`);
  if (options.buffer) problems.push(...bufferOptionProblems(options.buffer));
  return problems;
}

function bufferOptionProblems(buffer: BufferOptions): string[] {
  const problems: string[] = [];
  const { maxSamples, maxAgeMs, replayPerSecond, redeliverMs, settleMs } = buffer;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) {
    problems.push(`buffer bound ${maxSamples} samples is not a whole number of at least 1`);
  }
  if (!(maxAgeMs >= 1_000)) problems.push(`buffer age bound ${maxAgeMs} ms is shorter than 1 s`);
  if (!(replayPerSecond > 0 && replayPerSecond <= 10_000)) {
    problems.push(`buffer replay rate ${replayPerSecond}/s is not above 0 and at most 10000`);
  }
  if (redeliverMs !== undefined && !(redeliverMs >= 0)) {
    problems.push(`buffer redelivery window ${redeliverMs} ms is negative`);
  }
  if (settleMs !== undefined && !(settleMs >= 0))
    problems.push(`coordinator settle time ${settleMs} ms is negative`);
  return problems;
}

/**
 * Starts the agent. Resolves once sampling runs and the first connect is under way; it does not wait for the
 * broker, since an edge node often boots before its network (see `connected`).
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  assertAgentOptions(options);
  const { nodeId } = options;
  // A caller may already have named the module; a second child would repeat the "module" key in every line.
  const log =
    options.logger.bindings().module === "agent" ? options.logger : options.logger.child({ module: "agent" });
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const clocks = { now, monotonic };
  const topics = topicsFor(options.topicRoot);
  const store = openSessionStore({ stateDir: options.stateDir, nodeId, now, logger: log });
  const buffer = openAgentBuffer(options, log, clocks);
  const source = options.source ?? createSystemSource({ ...options.roots, monotonic, logger: log });
  const probe = createInternetProbe({ ...options.internet, monotonic });
  const primed = await primeNode(options, source, now, probe).catch((error: unknown) => {
    buffer?.close();
    throw error;
  });
  let { facts } = primed;
  const { installId } = primed;
  const primedAtMs = monotonic();

  const sessions = createSessionCounter(store, now, log);
  let generation = 0;
  let stopping: Promise<void> | undefined;
  const agentLink = createAgentLink({
    options,
    installId,
    topics,
    sessions,
    facts: () => facts,
    now,
    logger: log,
  });
  const { link, warn } = agentLink;

  const publishFailures = createFailureLog({ logger: log, message: "telemetry publish failed", monotonic });
  const outbox = createAgentOutbox(
    options,
    { link: agentLink.telemetry, sequence: agentLink.sequence, buffer, publishFailures, logger: log },
    clocks,
  );
  let reportFatal: (error: AgentError) => void = () => {};
  const fatal = new Promise<AgentError>((resolve) => {
    reportFatal = resolve;
  });
  const conflictTopic = topics.nodeConflict(nodeId);
  const onConflict = conflictHandler({
    nodeId,
    installId,
    log,
    ignore: () => stopping !== undefined,
    // A clean disconnect without an OFFLINE status: the node id and its retained status are the holder's.
    lost: (error) => {
      stopping ??= stop("node id conflict", false);
      void stopping.then(() => reportFatal(error));
    },
    connected: () => link.connected,
    // The refused birth and status overwrote ours (both retained): say again who holds the node id.
    reannounce: () => {
      if (agentLink.announced) agentLink.publishBirthAndStatus();
    },
  });
  link.onMessage((topic, payload) => {
    if (topic === conflictTopic) onConflict(payload);
  });
  if (buffer) {
    let undecodable = 0;
    link.onMessage((topic, payload) => {
      if (topic !== topics.coordinatorStatus) return;
      const status = decode("coordinatorStatus", payload, 64 * 1024);
      if (status.ok) outbox.coordinatorStatus(status.message);
      else if (undecodable++ === 0)
        log.warn({ detail: status.detail }, "undecodable coordinator status ignored");
    });
  }

  const announce = async (connection: number): Promise<void> => {
    try {
      facts = await source.facts(); // addresses and mounts may have changed while we were away
    } catch (error) {
      log.warn({ err: error }, "could not refresh node facts; the birth repeats the last ones");
    }
    if (connection !== generation || !link.connected || stopping) return;
    // Subscribed before the birth, so the coordinator's answer to it cannot be missed.
    try {
      await link.subscribe([conflictTopic]);
    } catch (error) {
      warn("conflict notices not subscribed")(error);
    }
    if (connection !== generation || !link.connected || stopping) return;
    // Subscribers get birth, then status, then telemetry.
    agentLink.publishBirthAndStatus();
    // The buffer holds telemetry until the coordinator's retained status says it is listening.
    if (buffer) link.subscribe([topics.coordinatorStatus]).catch(warn("coordinator status not subscribed"));
    agentLink.announced = true;
    publishFailures.recovered();
    outbox.connected();
    log.info({ session: `${sessions.current}`, installId }, "announced");
    loop.sampleEarly(() => stopping !== undefined);
  };

  link.on("connect", () => {
    generation += 1;
    agentLink.reset();
    void announce(generation);
  });
  link.on("disconnect", () => {
    agentLink.announced = false;
    outbox.disconnected();
  });

  const loop = startSamplingLoop({
    source,
    counters: primed.counters,
    primedAtMs,
    intervalMs: options.intervalMs,
    now,
    monotonic,
    timers: options.timers,
    logger: log,
    health: () => ({ linkConnected: agentLink.telemetry.ready, internet: probe.latest() }),
    offer: (telemetry) => outbox.offer(telemetry),
  });

  void link.start();
  log.info({ nodeId, broker: options.brokerUrl, intervalMs: options.intervalMs }, "agent started");

  const stop = async (reason: string, announceOffline = true): Promise<void> => {
    await loop.stop();
    agentLink.announced = false;
    const offline = announceOffline
      ? contractPublish("nodeStatus", topics.nodeStatus(nodeId), agentLink.status(PeerState.OFFLINE, reason))
      : undefined;
    await closeLink(link, offline, log);
    outbox.close();
    const { pending, dropped } = { pending: outbox.stats().pending, dropped: outbox.dropped };
    log.info({ reason, session: `${sessions.current}`, dropped, pending }, "agent stopped");
  };

  return {
    nodeId,
    installId,
    fatal,
    get session() {
      return sessions.current;
    },
    get seq() {
      return agentLink.seq;
    },
    get connected() {
      return agentLink.telemetry.ready;
    },
    get outbox() {
      return outbox.stats();
    },
    get sampling() {
      return loop.stats();
    },
    stop(reason = "shutdown") {
      stopping ??= stop(reason);
      return stopping;
    },
  };
}

function assertAgentOptions(options: AgentOptions): void {
  const problems = agentOptionProblems(options);
  if (problems.length > 0) {
    throw new AgentError("K3SF_ERR_AGENT_OPTIONS", `invalid agent options: ${problems.join("; ")}`, {
      problems,
    });
  }
}

/**
 * What the agent learns before it connects: the node's facts, counters primed so the first telemetry
 * carries real rates (not zeros or since-boot averages), and this install's id.
 */
async function primeNode(
  options: AgentOptions,
  source: SampleSource,
  now: () => number,
  probe: InternetProbe,
): Promise<{ facts: StaticFacts; counters: Counters; installId: string }> {
  const facts = await source.facts();
  const { counters } = shapeTelemetry(await source.read(), undefined, now(), {
    linkConnected: false,
    internet: undefined,
  });
  probe.latest();
  const installId =
    options.installId ??
    installIdOf({
      seed: loadInstallSeed(options.stateDir),
      machineId: readMachineId(),
      macs: facts.interfaces.filter((i) => !i.virtual).map((i) => i.mac),
    });
  return { facts, counters, installId };
}

/**
 * Acts on a node-conflict notice: when the coordinator refused this install, the agent stops for good
 * (`lost`); when it refused another machine claiming our node id, we announce ourselves again (`reannounce`).
 */
function conflictHandler(on: {
  nodeId: string;
  installId: string;
  log: Logger;
  ignore: () => boolean;
  lost: (error: AgentError) => void;
  connected: () => boolean;
  reannounce: () => void;
}): (payload: Uint8Array) => void {
  const { nodeId, installId, log } = on;
  return (payload) => {
    const notice = decode("nodeConflict", payload, 64 * 1024);
    if (!notice.ok || on.ignore()) return;
    const { holderInstallId, rejectedInstallId } = notice.message;
    if (rejectedInstallId === installId && holderInstallId !== installId) {
      const error = new AgentError(
        "K3SF_ERR_NODE_ID_CONFLICT",
        `node id "${nodeId}" is in use by another machine (install ${holderInstallId}); ` +
          `give this one its own name with --node-name or NODE_NAME`,
      );
      log.error({ nodeId, installId, holderInstallId }, error.message);
      on.lost(error);
    } else if (holderInstallId === installId && on.connected()) {
      log.warn({ nodeId, rejectedInstallId }, "another machine claimed this node id; it was told to stop");
      on.reannounce();
    }
  };
}

/** Closes the link with `offline` as its last message; drops it when the broker does not confirm in time. */
async function closeLink(link: Link, offline: Parameters<Link["close"]>[0], log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    link.close(offline).then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!closed) {
    log.warn("broker did not confirm the offline status in time; dropping the connection");
    link.destroy();
  }
}
