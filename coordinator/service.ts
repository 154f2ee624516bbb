// The coordinator as a service: optional embedded broker, the MQTT coordinator, — when a cluster is
// reachable — the Kubernetes cluster view joined into every report, and scheduling (pending pods with our
// schedulerName, MQTT schedule requests; advisory when standalone). Composition only; each part owns its job.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { TlsOptions } from "../mqtt/link.ts";
import type { FleetReport } from "../proto/index.ts";
import type { EmbeddedBroker } from "./broker/broker.ts";
import { type Credentials, type SecuredBrokerOptions, startSecuredBroker } from "./broker/embedded.ts";
import type { ClusterView } from "./cluster/index.ts";
import { type RunningCoordinator, startCoordinator } from "./fleet/fleet-service.ts";
import { liveByNodeName } from "./fleet/live.ts";
import { aedesNodeFeed } from "./fleet/node-feed.ts";
import { type CoordinatorMetrics, createCoordinatorMetrics } from "./http/metrics.ts";
import { type HttpEndpoint, startHttpServer } from "./http/server.ts";
import { gateKubeActions, gateLink } from "./leader/gate.ts";
import type { LeaderElectionSettings, Leadership } from "./leader/leadership.ts";
import type { DecisionRecord, SchedulingService, SchedulingSettings } from "./placement/index.ts";

export interface ServiceOptions {
  /** Start the embedded broker here; otherwise connect to `brokerUrl`. */
  embeddedBroker?: Omit<SecuredBrokerOptions, "topicRoot" | "logger" | "localClients">;
  /** With an embedded broker: the node id of an agent this process will run, so it gets an account. */
  localAgentNodeId?: string;
  brokerUrl: string;
  topicRoot: string;
  clientId?: string;
  reportIntervalMs: number;
  staleAfterIntervals: number;
  offlineAfterIntervals: number;
  defaultIntervalMs: number;
  maxPayloadBytes: number;
  keepaliveSeconds: number;
  localNodeId?: string;
  mqtt?: { username?: string; password?: string; tls?: TlsOptions };
  /** Undefined: standalone. Otherwise how to reach the cluster. */
  kubernetes?: {
    kubeconfigPath?: string;
    env: Readonly<Record<string, string | undefined>>;
    connectTimeoutMs: number;
    metricsIntervalMs: number;
  };
  /** Serve /healthz, /readyz and /metrics here; undefined: no HTTP. */
  http?: { host: string; port: number };
  logger: Logger;
  onReport?: (report: FleetReport) => void;
  /**
   * Scheduling (secondary scheduler + MQTT schedule requests); `false` turns it off. Standalone when no
   * cluster is reachable: decisions are advisory.
   */
  scheduling?: Partial<SchedulingSettings> | false;
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
  leadership: Leadership | undefined;
  metrics: CoordinatorMetrics;
  http: HttpEndpoint | undefined;
  stop(): Promise<void>;
}

export async function startCoordinatorService(options: ServiceOptions): Promise<CoordinatorService> {
  const { logger } = options;
  const connected = options.kubernetes ? await startCluster(options.kubernetes, logger) : undefined;
  const cluster = connected?.view;
  let broker: EmbeddedBroker | undefined;
  let coordinator: RunningCoordinator | undefined;
  let scheduling: SchedulingService | undefined;
  try {
    const secured = options.embeddedBroker
      ? await startSecuredBroker({
          ...options.embeddedBroker,
          topicRoot: options.topicRoot,
          localClients: [
            { name: "coordinator", role: "coordinator" },
            ...(options.localAgentNodeId
              ? [{ name: "agent", role: "node" as const, nodeId: options.localAgentNodeId }]
              : []),
          ],
          logger: logger.child({ module: "broker" }),
        })
      : undefined;
    broker = secured?.broker;
    const electing = connected && options.leaderElection ? options.leaderElection : undefined;
    coordinator = await startCoordinator({
      brokerUrl: broker?.url ?? options.brokerUrl,
      topicRoot: options.topicRoot,
      clientId: options.clientId,
      reportIntervalMs: options.reportIntervalMs,
      staleAfterIntervals: options.staleAfterIntervals,
      offlineAfterIntervals: options.offlineAfterIntervals,
      defaultIntervalMs: options.defaultIntervalMs,
      maxPayloadBytes: options.maxPayloadBytes,
      keepaliveSeconds: options.keepaliveSeconds,
      localNodeId: options.localNodeId,
      // A replica starts as a standby and becomes active when it wins the Lease.
      active: electing === undefined,
      instanceName: electing?.identity,
      mqtt: secured?.credentials.get("coordinator") ?? options.mqtt,
      // With the broker in this process, node messages come straight from it, not over a loopback socket.
      nodeFeed: broker ? aedesNodeFeed(broker.aedes) : undefined,
      mode: cluster ? "cluster" : "standalone",
      logger: logger.child({ module: "coordinator" }),
      onReport: options.onReport,
      decorateReport: (report, now) => {
        if (cluster && coordinator) report.cluster = cluster.summary(liveByNodeName(coordinator.fleet, now));
        if (scheduling) report.scheduling = scheduling.summary();
      },
    });
    const running = coordinator;
    const metrics = createCoordinatorMetrics(running);
    let leadership: Leadership | undefined;
    const acting = () => leadership?.acting() ?? true;
    const startActing = async () => {
      if (options.scheduling === false || scheduling) return;
      scheduling = await startSchedulingPart(
        options,
        running,
        connected,
        logger,
        metrics,
        acting,
        (record) => {
          metrics.observeDecision(record.source, record.status, record.latencyMs / 1000);
          options.onSchedulingDecision?.(record);
        },
      );
    };
    if (electing && connected) {
      const { createLeadership } = await import("./leader/leadership.ts");
      const { registerLeadershipMetrics } = await import("./leader/metrics.ts");
      const elected = createLeadership({
        settings: electing,
        kc: connected.kc,
        logger,
        onKubeError: (operation, code) => metrics.countKubeError(operation, code),
        actions: {
          async promote() {
            await running.setActive(true);
            await startActing();
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
      await elected.start().catch(async (error: unknown) => {
        await elected.stop();
        await running.stop();
        throw error;
      });
    } else {
      await startActing();
    }
    const http = options.http
      ? await startHttpServer({
          ...options.http,
          registry: metrics.registry,
          readiness: [
            { name: "broker", ok: () => running.link.connected },
            // Standalone by choice is ready; a cluster view is ready once its informers have listed.
            ...(cluster ? [{ name: "cluster", ok: () => cluster.synced() }] : []),
            // Both roles are ready; the body says which one this instance has.
            ...(leadership ? [roleCheck(leadership)] : []),
          ],
          logger: logger.child({ module: "http" }),
        }).catch(async (error: unknown) => {
          await leadership?.stop();
          await scheduling?.stop();
          await running.stop();
          throw error;
        })
      : undefined;
    return {
      broker,
      metrics,
      http,
      localAgentCredentials: secured?.credentials.get("agent"),
      coordinator: running,
      cluster,
      get scheduling() {
        return scheduling;
      },
      leadership,
      async stop() {
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
): Promise<SchedulingService> {
  const { createKubeActions, resolveSettings, startScheduling } = await import("./placement/index.ts");
  const settings = options.scheduling || {};
  try {
    return await startScheduling({
      settings,
      link: gateLink(coordinator.link, acting),
      onNodeMessage: coordinator.onNodeMessage,
      topicRoot: options.topicRoot,
      fleet: coordinator.fleet,
      now: coordinator.now,
      logger,
      onDecision,
      ...(connected
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
  } catch (error) {
    await coordinator.stop();
    throw error;
  }
}

async function startCluster(
  k8s: NonNullable<ServiceOptions["kubernetes"]>,
  logger: Logger,
): Promise<{ view: ClusterView; kc: KubeConfig } | undefined> {
  // Loaded only when Kubernetes is wanted: standalone runs never load the client.
  const { connectCluster, startClusterView } = await import("./cluster/index.ts");
  const log = logger.child({ module: "cluster" });
  const connection = await connectCluster({
    kubeconfigPath: k8s.kubeconfigPath,
    env: k8s.env,
    logger: log,
    timeoutMs: k8s.connectTimeoutMs,
  });
  if (!connection) return undefined;
  log.info(
    { server: connection.server, version: connection.version, source: connection.source },
    "cluster connected",
  );
  const view = await startClusterView({
    kc: connection.kc,
    server: connection.server,
    metricsIntervalMs: k8s.metricsIntervalMs,
    logger: log,
  });
  return { view, kc: connection.kc };
}

function roleCheck(leadership: Leadership) {
  return {
    get name() {
      return leadership.acting() ? "leader" : `standby (leader: ${leadership.leader || "none"})`;
    },
    ok: () => true,
  };
}
