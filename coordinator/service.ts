// The coordinator as a service: optional embedded broker, the MQTT coordinator, — when a cluster is
// reachable — the Kubernetes cluster view joined into every report, and scheduling (pending pods with our
// schedulerName, MQTT schedule requests; advisory when standalone). Composition only; each part owns its job.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { FleetReport, ScheduleRequest } from "../proto/index.ts";
import type { EmbeddedBroker } from "./broker/broker.ts";
import { type Credentials, type SecuredBrokerOptions, startSecuredBroker } from "./broker/embedded.ts";
import type { ClusterConnection, ClusterView } from "./cluster/index.ts";
import { type CoordinatorOptions, type RunningCoordinator, startCoordinator } from "./fleet/fleet-service.ts";
import { liveByNodeName } from "./fleet/live.ts";
import { aedesNodeFeed } from "./fleet/node-feed.ts";
import { registerBrokerMetrics } from "./http/broker-metrics.ts";
import { type CoordinatorMetrics, createCoordinatorMetrics } from "./http/metrics.ts";
import { type HttpEndpoint, startHttpServer } from "./http/server.ts";
import { gateKubeActions, gateLink } from "./leader/gate.ts";
import type { LeaderElectionSettings, Leadership } from "./leader/leadership.ts";
import type { DecisionRecord, SchedulingService, SchedulingSettings } from "./placement/index.ts";
import { startWebView, type WebAccessOptions } from "./web/start.ts";

/** What the service passes on to startCoordinator as given (documented there). */
type CoordinatorPassed = Pick<
  CoordinatorOptions,
  | "brokerUrl"
  | "topicRoot"
  | "reportIntervalMs"
  | "staleAfterIntervals"
  | "offlineAfterIntervals"
  | "defaultIntervalMs"
  | "expireOfflineAfterMs"
  | "maxPayloadBytes"
  | "maxReportBytes"
  | "keepaliveSeconds"
  | "localNodeId"
  | "mqtt"
>;

export interface ServiceOptions extends CoordinatorPassed {
  /** Start the embedded broker here; otherwise connect to `brokerUrl`. */
  embeddedBroker?: Omit<SecuredBrokerOptions, "topicRoot" | "logger" | "localClients">;
  /** With an embedded broker: the node id of an agent this process will run, so it gets an account. */
  localAgentNodeId?: string;
  clientId?: string;
  /** Undefined: standalone. Otherwise how to reach the cluster. */
  kubernetes?: {
    kubeconfigPath?: string;
    env: Readonly<Record<string, string | undefined>>;
    connectTimeoutMs: number;
    metricsIntervalMs: number;
  };
  /** Serve /healthz, /readyz, /metrics and the web view (unless `web: false`) here; undefined: no HTTP. */
  http?: { host: string; port: number; web?: WebAccessOptions | false };
  logger: Logger;
  onReport?: (report: FleetReport) => void;
  /**
   * Scheduling (secondary scheduler + MQTT schedule requests); `false` turns it off. Standalone when no
   * cluster is reachable: decisions are advisory.
   */
  scheduling: SchedulingSettings | false;
  /** Called for every scheduling decision (e.g. Prometheus `observeDecision`). */
  onSchedulingDecision?: (record: DecisionRecord) => void;
  /**
   * Compete for a Lease with other replicas (only when a cluster is reachable): only the leader publishes
   * reports and the active status, answers schedule requests and binds pods; standbys ingest. Undefined:
   * this instance always acts.
   */
  leaderElection?: LeaderElectionSettings;
}

export interface CoordinatorService {
  broker: EmbeddedBroker | undefined;
  /** The local agent's account on the embedded broker, when a users file is in force. */
  localAgentCredentials: Credentials | undefined;
  coordinator: RunningCoordinator;
  cluster: ClusterView | undefined;
  /** Undefined when turned off (`scheduling: false`), and while this instance is a standby. */
  readonly scheduling: SchedulingService | undefined;
  /** Undefined without leader election (this instance always acts). */
  readonly leadership: Leadership | undefined;
  metrics: CoordinatorMetrics;
  http: HttpEndpoint | undefined;
  stop(): Promise<void>;
}

export async function startCoordinatorService(options: ServiceOptions): Promise<CoordinatorService> {
  const { logger } = options;
  // Failed connects before the metrics exist are counted once they do.
  let metricsReady: CoordinatorMetrics | undefined;
  const earlyFailures: string[] = [];
  const countConnectFailure = (code: string) =>
    metricsReady ? metricsReady.countKubeError("connect", code) : earlyFailures.push(code);
  const wait = options.kubernetes
    ? await waitCluster(options.kubernetes, logger, countConnectFailure)
    : undefined;
  const first = await wait?.first;
  // A cluster asked for that does not answer yet: run (advisory, not ready) and attach it when it does.
  const clusterWanted = first !== undefined && first !== "standalone";
  let connected =
    first !== undefined && typeof first === "object"
      ? await startView(first, options.kubernetes as NonNullable<ServiceOptions["kubernetes"]>, logger)
      : undefined;
  let cluster = connected?.view;
  let broker: EmbeddedBroker | undefined;
  let coordinator: RunningCoordinator | undefined;
  let scheduling: SchedulingService | undefined;
  let leadership: Leadership | undefined;
  let stopped = false;
  // Replicas compete for a Lease once the cluster answers; until they win it they only ingest.
  const electing = clusterWanted && options.leaderElection ? options.leaderElection : undefined;
  try {
    const secured = options.embeddedBroker
      ? await startSecuredBroker({
          ...options.embeddedBroker,
          topicRoot: options.topicRoot,
          coordinatorClientId: options.clientId,
          localClients: [
            { name: "coordinator", role: "coordinator" },
            ...(options.localAgentNodeId
              ? [{ name: "agent", role: "node" as const, nodeId: options.localAgentNodeId }]
              : []),
          ],
          logger: logger.child({ module: "broker" }),
        }).catch((error: unknown) => {
          throw listenError(error, "MQTT broker", "--embedded-broker HOST:PORT");
        })
      : undefined;
    broker = secured?.broker;
    coordinator = await startCoordinator({
      brokerUrl: broker?.url ?? options.brokerUrl,
      topicRoot: options.topicRoot,
      clientId: options.clientId,
      reportIntervalMs: options.reportIntervalMs,
      staleAfterIntervals: options.staleAfterIntervals,
      offlineAfterIntervals: options.offlineAfterIntervals,
      defaultIntervalMs: options.defaultIntervalMs,
      expireOfflineAfterMs: options.expireOfflineAfterMs,
      maxPayloadBytes: options.maxPayloadBytes,
      maxReportBytes: options.maxReportBytes,
      keepaliveSeconds: options.keepaliveSeconds,
      localNodeId: options.localNodeId,
      // A replica starts as a standby and becomes active when it wins the Lease.
      active: electing === undefined,
      instanceName: electing?.identity,
      mqtt: secured?.credentials.get("coordinator") ?? options.mqtt,
      // With the broker in this process, node messages come straight from it, not over a loopback socket.
      nodeFeed: broker ? aedesNodeFeed(broker.aedes) : undefined,
      mode: () => (cluster ? "cluster" : "standalone"),
      logger: logger.child({ module: "coordinator" }),
      onReport: options.onReport,
      decorateReport: (report, now) => {
        if (cluster && coordinator) report.cluster = cluster.summary(liveByNodeName(coordinator.fleet, now));
        if (scheduling) report.scheduling = scheduling.summary();
      },
    });
    const running = coordinator;
    const metrics = createCoordinatorMetrics(running);
    if (secured) registerBrokerMetrics(metrics.registry, secured);
    metricsReady = metrics;
    for (const code of earlyFailures.splice(0)) metrics.countKubeError("connect", code);
    const onDecision = (record: DecisionRecord) => {
      metrics.observeDecision(record.source, record.status, record.latencyMs / 1000);
      options.onSchedulingDecision?.(record);
    };
    // Every Kubernetes write and schedule reply checks, at the last moment, that this instance still acts.
    const acting = () => leadership?.acting() ?? electing === undefined;
    const startActing = async (withCluster: typeof connected) => {
      if (options.scheduling === false) return;
      await scheduling?.stop();
      scheduling = undefined;
      scheduling = await startSchedulingPart(
        options,
        running,
        withCluster,
        logger,
        metrics,
        acting,
        onDecision,
        // The embedded broker knows which user sent a request (per-user quotas); other brokers do not.
        secured ? (request) => secured.userOf(request.clientId) ?? request.clientId : undefined,
      );
    };
    const elect = async (withCluster: NonNullable<typeof connected>, settings: LeaderElectionSettings) => {
      const { createLeadership } = await import("./leader/leadership.ts");
      const { registerLeadershipMetrics } = await import("./leader/metrics.ts");
      const elected = createLeadership({
        settings,
        kc: withCluster.kc,
        logger,
        onKubeError: (operation, code) => metrics.countKubeError(operation, code),
        actions: {
          async promote() {
            await running.setActive(true);
            await startActing(withCluster);
          },
          async demote() {
            const stopping = scheduling;
            scheduling = undefined;
            await running.setActive(false);
            await stopping?.stop();
          },
        },
      });
      leadership = elected;
      registerLeadershipMetrics(metrics.registry, () => ({
        leading: elected.acting(),
        transitions: elected.transitions,
      }));
      await elected.start();
    };
    try {
      if (electing && connected) await elect(connected, electing);
      else if (!electing) await startActing(connected);
    } catch (error) {
      await leadership?.stop();
      await running.stop();
      throw error;
    }
    if (first === "retrying" && wait && options.kubernetes) {
      const k8s = options.kubernetes;
      // The cluster answered at last: its view joins the reports, and scheduling starts again with it
      // (with replicas: the competition for the Lease starts, and the winner schedules).
      void wait.later.then(async (connection) => {
        if (connection === undefined || stopped) return;
        try {
          const attached = await startView(connection, k8s, logger);
          if (stopped) return void (await attached.view.stop());
          connected = attached;
          cluster = attached.view;
          await running.announce(); // the retained status says "cluster" now
          if (electing) await elect(attached, electing);
          else await startActing(attached);
        } catch (error) {
          logger.error({ err: error }, "cannot start the cluster view or scheduling with the cluster");
        }
      });
    }
    const web =
      options.http && (await startWebView(options.http, running, () => scheduling, cluster, logger));
    const http = options.http
      ? await startHttpServer({
          ...options.http,
          web,
          registry: metrics.registry,
          readiness: [
            { name: "broker", ok: () => running.link.connected },
            // Standalone by choice is ready; a cluster asked for is ready once its informers have listed.
            ...(clusterWanted ? [{ name: "cluster", ok: () => cluster?.synced() ?? false }] : []),
            // Both roles are ready; the body says which one this instance has.
            ...(electing ? [roleCheck(() => leadership)] : []),
          ],
          logger: logger.child({ module: "http" }),
        }).catch(async (error: unknown) => {
          wait?.stop();
          web?.close();
          await leadership?.stop();
          await scheduling?.stop();
          await running.stop();
          throw listenError(
            error,
            "HTTP endpoint (/healthz, /readyz, /metrics)",
            "--http-listen HOST:PORT (or off)",
          );
        })
      : undefined;
    return {
      broker,
      metrics,
      http,
      localAgentCredentials: secured?.credentials.get("agent"),
      coordinator: running,
      get cluster() {
        return cluster;
      },
      get scheduling() {
        return scheduling;
      },
      get leadership() {
        return leadership;
      },
      async stop() {
        stopped = true;
        wait?.stop();
        web?.close();
        await http?.close();
        // A leader releases the Lease first, so a standby takes over at once.
        await leadership?.stop();
        // Decisions in flight finish (and are answered) while the MQTT link is still up.
        await scheduling?.stop();
        await running.stop();
        await cluster?.stop();
        await broker?.close();
      },
    };
  } catch (error) {
    stopped = true;
    wait?.stop();
    await cluster?.stop();
    await broker?.close();
    throw error;
  }
}

async function startSchedulingPart(
  options: ServiceOptions,
  coordinator: RunningCoordinator,
  connected: { view: ClusterView; kc: KubeConfig } | undefined,
  logger: Logger,
  metrics: CoordinatorMetrics,
  acting: () => boolean,
  onDecision: (record: DecisionRecord) => void,
  requester?: (request: ScheduleRequest) => string,
): Promise<SchedulingService> {
  const { resolveSettings, startScheduling } = await import("./placement/index.ts");
  const settings = options.scheduling;
  if (settings === false) throw new Error("scheduling is off");
  // kube.ts loads the Kubernetes client: only with a cluster.
  const createKubeActions = connected ? (await import("./placement/kube.ts")).createKubeActions : undefined;
  return await startScheduling({
    settings,
    link: gateLink(coordinator.link, acting),
    onNodeMessage: coordinator.onNodeMessage,
    topicRoot: options.topicRoot,
    fleet: coordinator.fleet,
    now: coordinator.now,
    logger,
    onDecision,
    ...(requester ? { requester } : {}),
    ...(connected && createKubeActions
      ? {
          cluster: {
            view: connected.view,
            kube: gateKubeActions(
              createKubeActions({
                kc: connected.kc,
                controller: resolveSettings(settings).schedulerName,
                onError: (operation, code) => metrics.countKubeError(operation, code),
              }),
              acting,
            ),
          },
        }
      : {}),
  });
}

/** A port in use or not allowed, as one line naming the port, the cause and the flag that moves it. */
function listenError(error: unknown, what: string, flag: string): unknown {
  // The listen error itself, or the cause of a coded error wrapped around it (the embedded broker's).
  let e = error as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  for (let depth = 0; depth < 4 && e && e.code !== "EADDRINUSE" && e.code !== "EACCES"; depth++) {
    e = e.cause as typeof e;
  }
  if (e?.code !== "EADDRINUSE" && e?.code !== "EACCES") return error;
  const where = `${e.address ?? ""}:${e.port ?? ""}`;
  const cause =
    e.code === "EADDRINUSE"
      ? "is already in use (another k3s-fleet or broker running?)"
      : "may not be listened on by this user";
  return Object.assign(
    new Error(`the ${what} cannot listen: ${where} ${cause}; choose another with ${flag}`),
    {
      code: "K3SF_ERR_LISTEN",
      cause: error,
    },
  );
}

/** Starts connecting (logs, counts failures); loaded only when Kubernetes is wanted. */
async function waitCluster(
  k8s: NonNullable<ServiceOptions["kubernetes"]>,
  logger: Logger,
  onFailure: (code: string) => void,
) {
  const { waitForCluster } = await import("./cluster/index.ts");
  return waitForCluster({
    kubeconfigPath: k8s.kubeconfigPath,
    env: k8s.env,
    logger: logger.child({ module: "cluster" }),
    timeoutMs: k8s.connectTimeoutMs,
    onFailure,
  });
}

async function startView(
  connection: ClusterConnection,
  k8s: NonNullable<ServiceOptions["kubernetes"]>,
  logger: Logger,
): Promise<{ view: ClusterView; kc: KubeConfig }> {
  const { startClusterView } = await import("./cluster/index.ts");
  const view = await startClusterView({
    kc: connection.kc,
    server: connection.server,
    metricsIntervalMs: k8s.metricsIntervalMs,
    logger: logger.child({ module: "cluster" }),
  });
  return { view, kc: connection.kc };
}

function roleCheck(leadership: () => Leadership | undefined) {
  return {
    get name() {
      const l = leadership();
      if (!l) return "standby (waiting for the cluster)";
      const refused = l.refused();
      if (refused !== undefined) return `leader election (Lease refused: ${refused})`;
      return l.acting() ? "leader" : `standby (leader: ${l.leader || "none"})`;
    },
    ok: () => leadership()?.refused() === undefined,
  };
}
