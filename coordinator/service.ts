// The coordinator as a service: optional embedded broker, the MQTT coordinator, and — when a cluster is
// reachable — the Kubernetes cluster view joined into every report. Composition only; each part owns its job.
import type { Logger } from "pino";
import type { TlsOptions } from "../mqtt/link.ts";
import type { FleetReport } from "../proto/index.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "./broker.ts";
import type { ClusterView } from "./cluster/index.ts";
import { type RunningCoordinator, startCoordinator } from "./coordinator.ts";
import { liveByNodeName } from "./live.ts";

export interface ServiceOptions {
  /** Start the embedded broker here; otherwise connect to `brokerUrl`. */
  embeddedBroker?: { host: string; port: number; maxPacketBytes: number };
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
  logger: Logger;
  onReport?: (report: FleetReport) => void;
}

export interface CoordinatorService {
  broker: EmbeddedBroker | undefined;
  coordinator: RunningCoordinator;
  cluster: ClusterView | undefined;
  stop(): Promise<void>;
}

export async function startCoordinatorService(options: ServiceOptions): Promise<CoordinatorService> {
  const { logger } = options;
  const cluster = options.kubernetes ? await startCluster(options.kubernetes, logger) : undefined;
  let broker: EmbeddedBroker | undefined;
  try {
    broker = options.embeddedBroker
      ? await startEmbeddedBroker({
          host: options.embeddedBroker.host,
          port: options.embeddedBroker.port,
          maxPayloadBytes: options.embeddedBroker.maxPacketBytes,
          logger: logger.child({ module: "broker" }),
        })
      : undefined;
    const coordinator = await startCoordinator({
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
      mqtt: options.mqtt,
      mode: cluster ? "cluster" : "standalone",
      logger: logger.child({ module: "coordinator" }),
      onReport: options.onReport,
      decorateReport: (report, now) => {
        if (cluster) report.cluster = cluster.summary(liveByNodeName(coordinator.fleet, now));
      },
    });
    return {
      broker,
      coordinator,
      cluster,
      async stop() {
        await coordinator.stop();
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

async function startCluster(
  k8s: NonNullable<ServiceOptions["kubernetes"]>,
  logger: Logger,
): Promise<ClusterView | undefined> {
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
  return startClusterView({
    kc: connection.kc,
    server: connection.server,
    metricsIntervalMs: k8s.metricsIntervalMs,
    logger: log,
  });
}
