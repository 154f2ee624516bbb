// The coordinator's telemetry side: one MQTT link with a retained ONLINE status and an OFFLINE Will,
// every node topic fed to ingest, and a fleet report built, published (retained) and handed to
// `onReport` every report interval. Births and statuses are retained, so a restart rebuilds the fleet.
// The report is built and encoded in slices that yield to the event loop: at 10,000 nodes it is ~2 MB and
// ~200 ms of work, which done in one piece would hold every message arriving meanwhile.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { Logger } from "pino";
import { FleetError } from "../../common/errors.ts";
import { type IntervalTimers, REAL_INTERVAL_TIMERS, REAL_TIMERS, type Timers } from "../../common/timers.ts";
import { contractPublish, encodedPublish, Link, type TlsOptions, withTimeout } from "../../mqtt/link.ts";
import {
  type CoordinatorStatus,
  createMessage,
  decode,
  type FleetReport,
  PeerState,
  timestamp,
  topicsFor,
} from "../../proto/index.ts";
import { buildReport, buildReportInSlices, type IngestTotals, type ReportContext } from "../report/build.ts";
import { encodeReportInSlices } from "../report/encode.ts";
import { runSliced } from "../report/run-sliced.ts";
import type { FleetHistory } from "./history.ts";
import { createIngest } from "./ingest.ts";
import type { NodeFeed, NodeMessageHandler } from "./node-feed.ts";
import { expiredNodes, type FleetState } from "./state.ts";

/** The retained coordinator status is published again at most this often (see the re-assert handler). */
const REASSERT_MS = 5_000;

/** The shortest wait for a report's PUBACK before it counts as failed (see publishReport). */
const REPORT_ACK_WAIT_MS = 10_000;

export interface CoordinatorOptions {
  brokerUrl: string;
  topicRoot: string;
  clientId: string;
  reportIntervalMs: number;
  /** A node is STALE after this many of its sampling intervals without telemetry... */
  staleAfterIntervals: number;
  /** ...and OFFLINE after this many if its Will never comes, or sooner after 1.5 × the keepalive its birth
   *  names (see keepaliveDeadlineMs); 0: only the Will. */
  offlineAfterIntervals: number;
  /** Sampling interval assumed for a node whose birth has not been seen. */
  defaultIntervalMs: number;
  /**
   * A node OFFLINE and silent this long is dropped from the fleet, and its retained birth and status are
   * cleared so a restart does not bring it back; 0: kept for ever.
   */
  expireOfflineAfterMs: number;
  /** Larger node payloads are rejected as `oversized` without decoding. */
  maxPayloadBytes: number;
  /** A larger encoded report is not published (counted as failed): brokers drop a connection over a packet
   *  above their limit, and MQTT 3.1.1 cannot say so. */
  maxReportBytes: number;
  /** Node id or hostname of the agent on this machine: the report's "Local System". */
  localNodeId?: string;
  keepaliveSeconds: number;
  mqtt?: { username?: string; password?: string; tls?: TlsOptions };
  /** Bound to this module by the caller (logger.child({ module: "coordinator" })); parts bind `part`. */
  logger: Logger;
  now?: () => number;
  /** The report tick (interval) and the deferred status re-assert (one-shot). */
  timers?: IntervalTimers & Timers;
  onReport?: (report: FleetReport) => void;
  /** "cluster" when a Kubernetes cluster view is attached, else "standalone"; a function when it can change. */
  mode?: "cluster" | "standalone" | (() => "cluster" | "standalone");
  /** Adds sections owned by other parts (cluster, scheduling) to each report before it is published. */
  decorateReport?: (report: FleetReport, now: number) => void;
  /** Reported in CoordinatorStatus; defaults to the package version. */
  version?: string;
  /** Nodes per slice when the report is built and encoded (tests make it small to see the slicing). */
  reportSliceNodes?: number;
  /** Node messages from here instead of the coordinator's MQTT subscription (the embedded broker's feed). */
  nodeFeed?: NodeFeed;
  /**
   * Whether this instance starts as the active one (default true). A standby (false) ingests everything but
   * publishes no report and no `{root}/coordinator/status`, and its Will goes to its own instance status
   * topic, so its death never marks the active coordinator offline. See `setActive`.
   */
  active?: boolean;
  /** Names this instance in `{root}/coordinator/instance/{id}/status`; default: the client id. */
  instanceName?: string;
}

/** The coordinator's MQTT client id when it runs alone (each replica of several adds its identity). */
export const COORDINATOR_CLIENT_ID = "k3s-fleet-coordinator";

/** The product settings come resolved from the config schema (cli/config/defaults.ts coordinatorSettings). */
export type CoordinatorInput = Omit<CoordinatorOptions, "clientId"> & { clientId?: string };

export interface CoordinatorCounters extends IngestTotals {
  /** Births refused because another install held the node id (ingest.ts). */
  idConflicts: number;
  reportsPublished: number;
  reportPublishFailures: number;
  /** Report intervals skipped because the previous report was still being built. */
  reportsSkipped: number;
  /** Wall time of the last report's build and encode (slices and the turns between them); 0 before one. */
  lastReportMs: number;
}

export interface RunningCoordinator {
  readonly fleet: FleetState;
  /** Per-node CPU and memory history (read by the web view's charts). */
  readonly history: FleetHistory;
  /** The coordinator's MQTT connection, for services that answer on it (schedule requests). */
  readonly link: Link;
  readonly now: () => number;
  /** The report of the last interval, undefined before the first one. */
  latestReport(): FleetReport | undefined;
  /** Calls `handler` with every node-topic message after ingest has applied it (instrumentation). */
  onNodeMessage(handler: NodeMessageHandler): void;
  /** Builds a report from the current state in one piece (not published). */
  buildReportNow(): FleetReport;
  /** What every report interval does, now: build and encode in slices, publish, hand to onReport. */
  publishReportNow(): Promise<void>;
  counters(): CoordinatorCounters;
  /** Whether this instance acts as the active coordinator (publishes reports and the active status). */
  readonly active: boolean;
  /**
   * Makes this instance the active coordinator or a standby. The MQTT connection is renewed (a clean
   * DISCONNECT, then a connect with the Will of the new role): the active one's Will is the OFFLINE
   * `{root}/coordinator/status`, a standby's is its instance status.
   */
  setActive(active: boolean): Promise<void>;
  /** Publishes the retained ONLINE status again, e.g. after the mode changed (a cluster attached). */
  announce(): Promise<void>;
  /** Publishes the retained OFFLINE status and disconnects; idempotent. */
  stop(): Promise<void>;
}

/** The coordinator could not connect, subscribe or announce itself on the broker. */
export type CoordinatorErrorCode = "K3SF_ERR_COORDINATOR_START";

export class CoordinatorError extends FleetError<CoordinatorErrorCode> {}

export async function startCoordinator(input: CoordinatorInput): Promise<RunningCoordinator> {
  const options = { ...input, clientId: input.clientId ?? COORDINATOR_CLIENT_ID };
  const { logger, topicRoot, clientId } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? { ...REAL_INTERVAL_TIMERS, ...REAL_TIMERS };
  const version = options.version ?? packageVersion();
  const modeOption = options.mode ?? "standalone";
  const modeNow = () => (typeof modeOption === "function" ? modeOption() : modeOption);
  const topics = topicsFor(topicRoot);
  const instanceId = `${clientId}-${randomBytes(4).toString("hex")}`;

  const ingest = createIngest({
    root: topicRoot,
    maxPayloadBytes: options.maxPayloadBytes,
    logger: logger.child({ part: "ingest" }),
    now,
    fleet: {
      defaultIntervalMs: options.defaultIntervalMs,
      staleAfterIntervals: options.staleAfterIntervals,
      offlineAfterIntervals: options.offlineAfterIntervals,
    },
    // Both installs hear it: the refused one stops, the holder publishes its birth and status again.
    onConflict: ({ nodeId, holderInstallId, rejectedInstallId }) => {
      const notice = createMessage("nodeConflict", {
        nodeId,
        holderInstallId,
        rejectedInstallId,
        time: timestamp(now()),
        message: `node id "${nodeId}" is held by install ${holderInstallId}; use --node-name or NODE_NAME`,
      });
      link
        .publish("nodeConflict", topics.nodeConflict(nodeId), notice)
        .catch((error: unknown) => logger.warn({ err: error, nodeId }, "cannot publish conflict notice"));
    },
  });

  let active = options.active ?? true;
  const instanceTopic = topics.coordinatorInstanceStatus(options.instanceName ?? clientId);
  const statusOn = (topic: string, state: PeerState) =>
    contractPublish(
      "coordinatorStatus",
      topic,
      createMessage("coordinatorStatus", {
        state,
        instanceId,
        version,
        mode: modeNow(),
        time: timestamp(now()),
      }),
    );
  /** The status that speaks for the fleet's coordinator: the active instance's only. */
  const status = (state: PeerState) => statusOn(topics.coordinatorStatus, state);

  const link = new Link({
    url: options.brokerUrl,
    clientId,
    logger: logger.child({ part: "link" }),
    keepaliveSeconds: options.keepaliveSeconds,
    username: options.mqtt?.username,
    password: options.mqtt?.password,
    tls: options.mqtt?.tls,
    will: () => (active ? status(PeerState.OFFLINE) : statusOn(instanceTopic, PeerState.OFFLINE)),
  });
  const taps: NodeMessageHandler[] = [];
  const deliver: NodeMessageHandler = (topic, payload) => {
    ingest.handle(topic, payload);
    for (const tap of taps) {
      try {
        tap(topic, payload);
      } catch (error) {
        logger.error({ err: error, topic }, "node message tap failed");
      }
    }
  };
  const feed = options.nodeFeed;
  if (feed === undefined) {
    link.onMessage((topic, payload) => {
      if (topic !== topics.coordinatorStatus) deliver(topic, payload);
    });
  }

  // Our retained ONLINE status is what agents wait for: when it is cleared or overwritten (a cleanup, another
  // client), publish it again, as a Sparkplug primary host does with its STATE. At most once per
  // REASSERT_MS, so two coordinators on one topic root do not ping-pong for ever (that is logged instead).
  // A status that leaves the fleet without an ONLINE coordinator (cleared, or another instance's OFFLINE: a
  // second coordinator started by mistake and stopped within REASSERT_MS) is answered when the interval
  // ends, not ignored: agents would otherwise buffer their telemetry, and the fleet read offline, for good.
  let lastReassert = Number.NEGATIVE_INFINITY;
  let reasserting = true;
  let retainedStatus: CoordinatorStatus | undefined;
  let deferred: unknown;
  const speaking = () => reasserting && active && link.connected;
  const ours = (s: CoordinatorStatus | undefined) =>
    s?.instanceId === instanceId && s.state === PeerState.ONLINE;
  const reassert = () => {
    lastReassert = now();
    logger.warn(
      {
        instanceId,
        found: retainedStatus ? `${retainedStatus.instanceId} ${PeerState[retainedStatus.state]}` : "nothing",
      },
      "retained coordinator status was cleared or replaced; publishing ours again",
    );
    link
      .publishRaw(status(PeerState.ONLINE))
      .catch((error: unknown) => logger.warn({ err: error }, "cannot re-publish coordinator status"));
  };
  link.onMessage((topic, payload) => {
    if (topic !== topics.coordinatorStatus) return;
    const decoded = payload.byteLength === 0 ? undefined : decode("coordinatorStatus", payload, 64 * 1024);
    retainedStatus = decoded?.ok ? decoded.message : undefined;
    // Only the active coordinator speaks for the fleet; a standby leaves the status to the leader.
    if (!speaking() || ours(retainedStatus)) return;
    const at = now();
    if (at - lastReassert >= REASSERT_MS) return reassert();
    logger.warn(
      { instanceId, other: retainedStatus?.instanceId },
      "our retained coordinator status keeps being replaced: is another coordinator using this topic root?",
    );
    if (retainedStatus?.state === PeerState.ONLINE || deferred !== undefined) return;
    deferred = timers.setTimeout(
      () => {
        deferred = undefined;
        if (speaking() && !ours(retainedStatus) && retainedStatus?.state !== PeerState.ONLINE) reassert();
      },
      lastReassert + REASSERT_MS - at,
    );
  });

  // On every (re)connect: announce ONLINE (retained) and subscribe; retained births and statuses follow.
  let announced: Promise<void> = Promise.resolve();
  link.on("connect", () => {
    announced = (async () => {
      await link.publishRaw(statusOn(instanceTopic, PeerState.ONLINE));
      if (active) await link.publishRaw(status(PeerState.ONLINE));
      await link.subscribe(
        feed === undefined ? [topics.filters.allNodes, topics.coordinatorStatus] : [topics.coordinatorStatus],
      );
    })();
    announced.catch((error: unknown) => logger.error({ err: error }, "cannot announce or subscribe"));
  });

  let latest: FleetReport | undefined;
  let publishing = false;
  let reportsPublished = 0;
  let reportPublishFailures = 0;
  let reportsSkipped = 0;
  let lastReportMs = 0;
  let building: Promise<void> | undefined;
  let stopped = false;

  const reportContext = (at: number): ReportContext => ({
    now: at,
    coordinatorId: clientId,
    mode: modeNow(),
    localNodeId: options.localNodeId,
    ingest: ingest.counters(),
  });

  const decorate = (report: FleetReport, at: number) => {
    try {
      options.decorateReport?.(report, at);
    } catch (error) {
      logger.error({ err: error }, "cannot add report sections");
    }
    return report;
  };

  const buildReportNow = () => {
    const at = now();
    return decorate(buildReport(ingest.fleet, ingest.history, reportContext(at)), at);
  };

  /** Drops nodes gone for good, clearing their retained birth and status (an empty retained message). */
  const expire = (at: number) => {
    for (const nodeId of expiredNodes(ingest.fleet, at, options.expireOfflineAfterMs)) {
      ingest.forget(nodeId);
      logger.info({ nodeId, afterMs: options.expireOfflineAfterMs }, "offline node expired");
      if (!link.connected) continue;
      for (const topic of [topics.birth(nodeId), topics.nodeStatus(nodeId)]) {
        link
          .publishRaw({ topic, payload: new Uint8Array(0), qos: 1, retain: true })
          .catch((error: unknown) => logger.warn({ err: error, topic }, "cannot clear retained message"));
      }
    }
  };

  const buildAndPublish = async () => {
    const started = performance.now();
    const at = now();
    expire(at);
    const slice = options.reportSliceNodes;
    const report = await runSliced(
      buildReportInSlices(ingest.fleet, ingest.history, reportContext(at), slice),
    );
    decorate(report, at);
    const payload = await runSliced(encodeReportInSlices(report, slice));
    lastReportMs = performance.now() - started;
    if (!stopped) publishReport(report, payload);
  };

  const tick = (): Promise<void> => {
    // The previous report still being built when the next is due (a huge fleet on a busy machine): skip
    // this one rather than pile up work.
    if (!active) return Promise.resolve(); // a standby's report would overwrite the active one's
    if (building !== undefined) {
      reportsSkipped++;
      return building;
    }
    building = buildAndPublish()
      .catch((error: unknown) => {
        // A failed report costs that report, never the process.
        reportPublishFailures++;
        logger.error({ err: error }, "cannot build or publish fleet report");
      })
      .finally(() => {
        building = undefined;
      });
    return building;
  };

  const publishReport = (report: FleetReport, payload: Uint8Array) => {
    latest = report;
    // Publish only while connected, one at a time: a queued stale report is worse than none.
    if (payload.byteLength > options.maxReportBytes) {
      // A broker drops the connection over a packet above its limit, and the unacknowledged publish would
      // block every later report: refuse it here, count it, and say what to change.
      reportPublishFailures++;
      logger.error(
        { bytes: payload.byteLength, limit: options.maxReportBytes, nodes: report.nodes.length },
        "fleet report larger than coordinator.maxReportBytes: not published (raise the broker's packet limit and this setting, or expire offline nodes sooner)",
      );
    } else if (link.connected && !publishing) {
      publishing = true;
      // A publish the broker never acknowledges (it closed the connection meanwhile) fails after one report
      // interval, so the next report goes out; at least REPORT_ACK_WAIT_MS, because a broker busy with a
      // flood acknowledges late, and late is not lost (reports due meanwhile are skipped, not queued).
      withTimeout(
        link.publishRaw(encodedPublish("report", topics.report, payload)),
        Math.max(options.reportIntervalMs, REPORT_ACK_WAIT_MS),
        "report not acknowledged",
      )
        .then(
          () => reportsPublished++,
          (error: unknown) => {
            reportPublishFailures++;
            logger.warn({ err: error }, "cannot publish fleet report");
          },
        )
        .finally(() => {
          publishing = false;
        });
    }
    try {
      options.onReport?.(report);
    } catch (error) {
      logger.error({ err: error }, "onReport failed");
    }
  };

  try {
    // The feed first: agents wait for our ONLINE status before they send telemetry.
    await feed?.start(topics.filters.allNodes, deliver);
    await link.start();
    await announced;
  } catch (error) {
    await link.close();
    await feed?.stop();
    throw new CoordinatorError(
      "K3SF_ERR_COORDINATOR_START",
      `coordinator cannot start on ${options.brokerUrl}`,
      {
        cause: error,
      },
    );
  }
  const timer = timers.setInterval(tick, options.reportIntervalMs);
  logger.info({ url: options.brokerUrl, topicRoot, instanceId }, "coordinator started");

  let stopping: Promise<void> | undefined;
  return {
    fleet: ingest.fleet,
    history: ingest.history,
    link,
    now,
    latestReport: () => latest,
    onNodeMessage: (handler) => taps.push(handler),
    buildReportNow,
    counters: () => ({
      ...ingest.counters(),
      idConflicts: ingest.idConflicts(),
      reportsPublished,
      reportPublishFailures,
      reportsSkipped,
      lastReportMs,
    }),
    publishReportNow: tick,
    get active() {
      return active;
    },
    async setActive(next) {
      if (next === active || stopped) return;
      active = next;
      logger.info({ instanceId, active }, next ? "active coordinator" : "standby coordinator");
      await link.reconnectNow();
    },
    announce: () =>
      link.connected && active ? link.publishRaw(status(PeerState.ONLINE)) : Promise.resolve(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        reasserting = false;
        timers.clearTimeout(deferred);
        timers.clearInterval(timer);
        // The instance topic is cleared rather than left OFFLINE: a stopped instance is simply gone.
        if (link.connected) {
          await link
            .publishRaw({ topic: instanceTopic, payload: new Uint8Array(), qos: 1, retain: true })
            .catch((error: unknown) => logger.warn({ err: error }, "cannot clear instance status"));
        }
        await link.close(active ? status(PeerState.OFFLINE) : undefined);
        await feed?.stop();
        logger.info({ instanceId }, "coordinator stopped");
      })();
      return stopping;
    },
  };
}

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
  } catch {
    return "";
  }
}
