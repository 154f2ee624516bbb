// The per-node agent: samples the machine every interval and publishes the contract's messages over one
// MQTT link. Session hygiene à la Sparkplug: a new persisted session before every connect, a retained
// OFFLINE Will for it, and on every connect a retained birth and ONLINE status before any telemetry.
// With `buffer` set, telemetry is stored and forwarded (outbox-buffered.ts): it waits on disk while the
// broker or the coordinator is away and is replayed afterwards, marked historical.
import type { Logger } from "pino";
import { REAL_TIMERS, type Timers } from "../common/timers.ts";
import { contractPublish, Link, type TlsOptions } from "../mqtt/link.ts";
import {
  agentClientId,
  createMessage,
  decode,
  type MessageOf,
  nodeIdProblem,
  PeerState,
  timestamp,
  topicRootProblem,
  topicsFor,
} from "../proto/index.ts";
import { openResilientBuffer } from "./buffer-resilient.ts";
import { type BufferStore, bufferPath, type OpenBufferOptions, sqliteMissing } from "./buffer-store.ts";
import { AgentError } from "./errors.ts";
import { createFailureLog } from "./failure-log.ts";
import { createInternetProbe, parseHostPort } from "./health.ts";
import { installIdOf, loadInstallSeed, readMachineId } from "./identity.ts";
import {
  createPassThroughOutbox,
  type Outbox,
  type OutboxStats,
  type Sequence,
  type TelemetryLink,
} from "./outbox.ts";
import { createBufferedOutbox } from "./outbox-buffered.ts";
import type { SampleSource, StaticFacts } from "./readings.ts";
import { createSystemSource } from "./sample-source.ts";
import { openSessionStore } from "./session-store.ts";
import { type Counters, shapeBirth, shapeTelemetry } from "./shape.ts";
import { startTicker } from "./ticker.ts";
import { AGENT_VERSION } from "./version.ts";

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

/** Wait after a new coordinator instance announces itself (BufferOptions.settleMs), so it has subscribed. */
const SETTLE_MS = 1_000;

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

export interface SamplingStats {
  taken: number;
  failed: number;
  skipped: number;
  /** Sum of sample durations, and the latest one, in seconds. */
  durationSecondsTotal: number;
  lastDurationSeconds: number;
}

const STOP_TIMEOUT_MS = 5_000;
/** The first sample comes this long after start (or after the first announce, if later). */
const EARLY_SAMPLE_MS = 250;
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
  const problems = agentOptionProblems(options);
  if (problems.length > 0) {
    throw new AgentError("K3SF_ERR_AGENT_OPTIONS", `invalid agent options: ${problems.join("; ")}`, {
      problems,
    });
  }
  const { nodeId } = options;
  // A caller may already have named the module; a second child would repeat the "module" key in every line.
  const log =
    options.logger.bindings().module === "agent" ? options.logger : options.logger.child({ module: "agent" });
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const topics = topicsFor(options.topicRoot);
  const store = openSessionStore({ stateDir: options.stateDir, nodeId, now, logger: log });
  // Without node:sqlite (Node.js 20) the agent runs without a buffer and says so. A buffer that cannot be
  // opened (full disk, unwritable state dir) does not stop the start either: the agent runs without it,
  // says so, and opens it when it can (buffer-resilient.ts).
  const noSqlite = options.buffer && !options.outbox ? sqliteMissing() : undefined;
  if (noSqlite) log.warn({ reason: noSqlite }, "no telemetry buffer: samples are dropped while offline");
  const buffer: BufferStore | undefined =
    options.buffer && !options.outbox && !noSqlite
      ? openResilientBuffer({
          path: bufferPath(options.stateDir, nodeId),
          logger: log.child({ part: "buffer" }),
          now,
          monotonic,
          retryMs: options.buffer.retryMs,
          open: options.buffer.open,
        })
      : undefined;
  const source = options.source ?? createSystemSource({ ...options.roots, monotonic, logger: log });
  const probe = createInternetProbe({ ...options.internet, monotonic });

  let facts: StaticFacts;
  let counters: Counters;
  try {
    facts = await source.facts();
    // Prime the counters so the first telemetry carries real rates, not zeros or since-boot averages.
    counters = shapeTelemetry(await source.read(), undefined, now(), {
      linkConnected: false,
      internet: undefined,
    }).counters;
  } catch (error) {
    buffer?.close();
    throw error;
  }
  probe.latest();
  let installId: string;
  try {
    installId =
      options.installId ??
      installIdOf({
        seed: loadInstallSeed(options.stateDir),
        machineId: readMachineId(),
        macs: facts.interfaces.filter((i) => !i.virtual).map((i) => i.mac),
      });
  } catch (error) {
    buffer?.close();
    throw error;
  }
  const primedAtMs = monotonic();
  let earlySampleScheduled = false;

  // A full disk must not keep the node off the fleet: when the session cannot be persisted the agent
  // starts anyway, with a session from the clock (seconds since the epoch: above what earlier runs used,
  // and what a later restart picks again only a second or more later), and says so.
  let pendingSession: bigint | undefined;
  try {
    pendingSession = store.next();
  } catch (error) {
    pendingSession = store.advance(BigInt(Math.floor(now() / 1000)));
    log.error(
      { err: error, session: `${pendingSession}` },
      "session not persisted: starting with a session from the clock",
    );
  }
  let session = pendingSession;
  let seq = 0n;
  let ready = false;
  let generation = 0;
  let stopping: Promise<void> | undefined;

  const takeSession = (): bigint => {
    if (pendingSession !== undefined) {
      const first = pendingSession;
      pendingSession = undefined;
      return first;
    }
    try {
      const next = store.next();
      return next > session ? next : session + 1n;
    } catch (error) {
      // Keep connecting: a full disk must not take the node off the fleet. The session still increases
      // within this process; only a restart before the disk recovers could reuse a number.
      log.error({ err: error }, "session not persisted");
      return store.advance(session + 1n);
    }
  };
  const status = (state: PeerState, reason = ""): MessageOf<"nodeStatus"> =>
    createMessage("nodeStatus", { state, session, time: timestamp(now()), reason, installId });

  const link = new Link({
    url: options.brokerUrl,
    clientId: agentClientId(nodeId, installId),
    logger: log.child({ part: "link" }),
    keepaliveSeconds: options.keepaliveSeconds,
    username: options.mqtt?.username,
    password: options.mqtt?.password,
    tls: options.mqtt?.tls,
    writeCache: false,
    will: () => {
      session = takeSession();
      return contractPublish("nodeStatus", topics.nodeStatus(nodeId), status(PeerState.OFFLINE));
    },
  });

  const telemetryLink: TelemetryLink = {
    get ready() {
      return ready && link.connected;
    },
    publish: (message) => link.publish("telemetry", topics.telemetry(nodeId), message),
  };
  const sequence: Sequence = {
    get session() {
      return session;
    },
    next() {
      seq += 1n;
      return seq;
    },
  };
  const publishFailures = createFailureLog({ logger: log, message: "telemetry publish failed", monotonic });
  const createOutbox = (): Outbox => {
    if (options.outbox) return options.outbox(telemetryLink, sequence);
    if (buffer && options.buffer) {
      const { redeliverMs, settleMs, waitForCoordinator, maxSamples, maxAgeMs, replayPerSecond } =
        options.buffer;
      return createBufferedOutbox({
        link: telemetryLink,
        sequence,
        store: buffer,
        limits: {
          maxSamples,
          maxAgeMs,
          replayPerSecond,
          redeliverMs: redeliverMs ?? Math.max(20_000, 2 * options.keepaliveSeconds * 1000),
        },
        gate: { waitForCoordinator, settleMs: settleMs ?? SETTLE_MS },
        logger: log.child({ part: "buffer" }),
        now,
        monotonic,
      });
    }
    return createPassThroughOutbox({
      link: telemetryLink,
      sequence,
      onPublishError: (error) => publishFailures.failed(error),
    });
  };
  const outbox = createOutbox();
  let reportFatal: (error: AgentError) => void = () => {};
  const fatal = new Promise<AgentError>((resolve) => {
    reportFatal = resolve;
  });
  const conflictTopic = topics.nodeConflict(nodeId);
  link.onMessage((topic, payload) => {
    if (topic !== conflictTopic) return;
    const notice = decode("nodeConflict", payload, 64 * 1024);
    if (!notice.ok || stopping) return;
    const { holderInstallId, rejectedInstallId } = notice.message;
    if (rejectedInstallId === installId && holderInstallId !== installId) {
      const error = new AgentError(
        "K3SF_ERR_NODE_ID_CONFLICT",
        `node id "${nodeId}" is in use by another machine (install ${holderInstallId}); ` +
          `give this one its own name with --node-name or NODE_NAME`,
      );
      log.error({ nodeId, installId, holderInstallId }, error.message);
      // A clean disconnect without an OFFLINE status: the node id and its retained status are the holder's.
      stopping ??= stop("node id conflict", false);
      void stopping.then(() => reportFatal(error));
    } else if (holderInstallId === installId && link.connected) {
      // The refused birth and status overwrote ours (both retained): say again who holds the node id.
      log.warn({ nodeId, rejectedInstallId }, "another machine claimed this node id; it was told to stop");
      if (ready) publishBirthAndStatus();
    }
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

  const warn = (what: string) => (error: unknown) => log.warn({ err: error, session: `${session}` }, what);
  /** Retained birth, then ONLINE status: published in this order on one connection. */
  const publishBirthAndStatus = () => {
    const birth = createMessage(
      "birth",
      shapeBirth(facts, {
        nodeId,
        session,
        nowMs: now(),
        agentVersion: AGENT_VERSION,
        k8sNodeName: options.k8sNodeName,
        labels: options.labels,
        intervalMs: options.intervalMs,
        keepaliveSeconds: options.keepaliveSeconds,
        installId,
      }),
    );
    link.publish("birth", topics.birth(nodeId), birth).catch(warn("birth not acknowledged"));
    link
      .publish("nodeStatus", topics.nodeStatus(nodeId), status(PeerState.ONLINE))
      .catch(warn("online status not acknowledged"));
  };

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
    publishBirthAndStatus();
    // The buffer holds telemetry until the coordinator's retained status says it is listening.
    if (buffer) link.subscribe([topics.coordinatorStatus]).catch(warn("coordinator status not subscribed"));
    ready = true;
    publishFailures.recovered();
    outbox.connected();
    log.info({ session: `${session}`, installId }, "announced");
    // The first sample need not wait a whole interval (issue 14: start to first sample ≤ 1 s): it is
    // taken shortly after the first announce, once the coordinator's retained status has had time to
    // arrive and the rates cover a measurable window; the fixed-rate schedule goes on unchanged.
    if (!earlySampleScheduled && options.intervalMs > EARLY_SAMPLE_MS) {
      earlySampleScheduled = true;
      const wait = Math.max(0, primedAtMs + EARLY_SAMPLE_MS - monotonic());
      (options.timers ?? REAL_TIMERS).setTimeout(
        () => {
          if (!stopping && sampling.taken + sampling.failed === 0) void sampleOnce();
        },
        Math.max(wait, EARLY_SAMPLE_MS / 2),
      );
    }
  };

  link.on("connect", () => {
    generation += 1;
    ready = false;
    seq = 0n;
    void announce(generation);
  });
  link.on("disconnect", () => {
    ready = false;
    outbox.disconnected();
  });

  const sampling: SamplingStats = {
    taken: 0,
    failed: 0,
    skipped: 0,
    durationSecondsTotal: 0,
    lastDurationSeconds: 0,
  };
  const sampleFailures = createFailureLog({ logger: log, message: "sampling failed", monotonic });
  const overruns = createFailureLog({ logger: log, message: "sampling overran its interval", monotonic });
  const takeSample = async (): Promise<void> => {
    const started = monotonic();
    try {
      const reading = await source.read();
      const shaped = shapeTelemetry(reading, counters, now(), {
        linkConnected: telemetryLink.ready,
        internet: probe.latest(),
      });
      counters = shaped.counters;
      outbox.offer(shaped.telemetry);
      sampling.taken++;
      sampleFailures.recovered();
    } catch (error) {
      sampling.failed++;
      sampleFailures.failed(error);
    } finally {
      sampling.lastDurationSeconds = (monotonic() - started) / 1000;
      sampling.durationSecondsTotal += sampling.lastDurationSeconds;
    }
  };
  /** One sample at a time, whoever asks (the ticker, or the first connect). */
  let sampleInProgress: Promise<void> | undefined;
  const sampleOnce = (): Promise<void> => {
    sampleInProgress ??= takeSample().finally(() => {
      sampleInProgress = undefined;
    });
    return sampleInProgress;
  };
  const ticker = startTicker({
    intervalMs: options.intervalMs,
    monotonic,
    timers: options.timers,
    onSkip: (skipped) => {
      sampling.skipped += skipped;
      overruns.failed(new Error(`${skipped} sample(s) skipped`));
    },
    task: sampleOnce,
  });

  void link.start();
  log.info({ nodeId, broker: options.brokerUrl, intervalMs: options.intervalMs }, "agent started");

  const stop = async (reason: string, announceOffline = true): Promise<void> => {
    await ticker.stop();
    ready = false;
    const offline = announceOffline
      ? contractPublish("nodeStatus", topics.nodeStatus(nodeId), status(PeerState.OFFLINE, reason))
      : undefined;
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
    outbox.close();
    const { pending, dropped } = { pending: outbox.stats().pending, dropped: outbox.dropped };
    log.info({ reason, session: `${session}`, dropped, pending }, "agent stopped");
  };

  return {
    nodeId,
    installId,
    fatal,
    get session() {
      return session;
    },
    get seq() {
      return seq;
    },
    get connected() {
      return telemetryLink.ready;
    },
    get outbox() {
      return outbox.stats();
    },
    get sampling() {
      return { ...sampling };
    },
    stop(reason = "shutdown") {
      stopping ??= stop(reason);
      return stopping;
    },
  };
}
