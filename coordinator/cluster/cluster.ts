// The coordinator's Kubernetes view: supervised node and pod informers (watch → cache), a metrics.k8s.io
// poller, one typed event map for whoever reconciles, and the ClusterSummary for reports.
import { EventEmitter } from "node:events";
import type { KubeConfig, V1Node, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { BackoffOptions } from "../../common/backoff.ts";
import type { Timers } from "../../common/timers.ts";
import type { ClusterSummary } from "../../proto/index.ts";
import { buildClusterSummary, type LiveByNode } from "../report/cluster-section.ts";
import type { StorageView } from "../scheduler/filters/volume-types.ts";
import { type ClusterEmitter, safeEmit } from "./events.ts";
import { startInformers } from "./informers.ts";
import { createMetricsPoller, EMPTY_METRICS, type MetricsSnapshot, type MetricsSource } from "./metrics.ts";
import { metricsSource } from "./metrics-source.ts";
import { startStorageInformers } from "./storage.ts";

export interface ClusterViewOptions {
  kc: KubeConfig;
  logger: Logger;
  /** metrics.k8s.io poll interval; 0 disables polling (metrics reported unavailable). */
  metricsIntervalMs: number;
  /** API server URL for reports; default the kubeconfig's current cluster. */
  server?: string;
  timers?: Timers;
  now?: () => number;
  /** Informer restart backoff; default 0.5 s doubling to 30 s, half jitter. */
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  /** After an informer restart, this long without an error resets its backoff. Default 60 s. */
  stableAfterMs?: number;
  /** ListWatch's delay between reconnects after clean stream ends. */
  delayFn?: (ms: number) => Promise<void>;
  /** Default client-node `Metrics` on `kc`, reading an unserved group as 404 (metrics-source.ts). */
  metricsSource?: MetricsSource;
  /** Also poll pod metrics. Default true. */
  podMetrics?: boolean;
  /**
   * Emitter to use, so listeners attached before the call also see the first list's adds and resync.
   * Without it, `view.events` only carries what happens after startClusterView resolves (the caches
   * already hold the rest).
   */
  events?: ClusterEmitter;
}

export interface ClusterView {
  readonly server: string;
  /** node / pod changes (cache already updated), resync after a (re)list, metrics after each poll. */
  readonly events: ClusterEmitter;
  /** The node and pod informer caches have been filled by a first list. */
  synced(): boolean;
  /**
   * The claim, volume and storage class caches too. Kept apart: without the RBAC for them (an older
   * deploy/k3s) the coordinator still schedules pods that use no claim; those that do wait for it.
   */
  storageSynced(): boolean;
  /** Resolves on the first sync of the node and pod informers; rejects if the view is stopped first. */
  whenSynced(): Promise<void>;
  /** Informer cache contents (do not mutate). */
  nodes(): readonly V1Node[];
  pods(): readonly V1Pod[];
  node(name: string): V1Node | undefined;
  /** PersistentVolumeClaims, PersistentVolumes and StorageClasses, for the volume filters. */
  storage(): StorageView;
  metrics(): MetricsSnapshot;
  /** Polls metrics.k8s.io now. */
  refreshMetrics(): Promise<MetricsSnapshot>;
  /** Report section from the caches, the latest metrics and live agent telemetry keyed by node name. */
  summary(live?: LiveByNode): ClusterSummary;
  stop(): Promise<void>;
}

/** Starts informers and metrics polling; resolves once both informers made their first attempt. */
export async function startClusterView(options: ClusterViewOptions): Promise<ClusterView> {
  const { kc } = options;
  const log = options.logger.child({ part: "view" });
  const server = options.server ?? kc.getCurrentCluster()?.server ?? "";
  const events: ClusterEmitter = options.events ?? new EventEmitter();
  const poller =
    options.metricsIntervalMs > 0
      ? createMetricsPoller({
          source: options.metricsSource ?? metricsSource(kc),
          logger: options.logger,
          intervalMs: options.metricsIntervalMs,
          timers: options.timers,
          now: options.now,
          pods: options.podMetrics,
          onUpdate: (snapshot) => safeEmit(events, log, "metrics", snapshot),
        })
      : undefined;
  const informerOptions = {
    kc,
    logger: options.logger,
    events,
    timers: options.timers,
    backoff: options.backoff,
    random: options.random,
    stableAfterMs: options.stableAfterMs,
    delayFn: options.delayFn,
  };
  const [informers, storage] = await Promise.all([
    startInformers(informerOptions),
    startStorageInformers(informerOptions),
    poller?.start(),
  ]);
  log.info(
    { server, synced: informers.synced(), metricsAvailable: poller?.snapshot().available ?? false },
    "cluster view started",
  );

  let stopping: Promise<void> | undefined;
  const metrics = () => poller?.snapshot() ?? EMPTY_METRICS;
  return {
    server,
    events,
    synced: () => informers.synced(),
    storageSynced: () => storage.synced(),
    whenSynced: () => informers.whenSynced(),
    nodes: () => informers.nodes.list(),
    pods: () => informers.pods.list(),
    node: (name) => informers.nodes.get(name),
    storage: () => storage.view,
    metrics,
    refreshMetrics: () => poller?.refresh() ?? Promise.resolve(EMPTY_METRICS),
    summary: (live = new Map()) =>
      buildClusterSummary({
        server,
        nodes: informers.nodes.list(),
        pods: informers.pods.list(),
        metrics: metrics(),
        live,
      }),
    stop() {
      stopping ??= (async () => {
        await Promise.all([poller?.stop(), informers.stop(), storage.stop()]);
        events.removeAllListeners();
        log.info("cluster view stopped");
      })();
      return stopping;
    },
  };
}
