// The scheduling service: one serial decision queue fed by pending pods (cluster mode) and MQTT schedule
// requests, on a snapshot of the cluster (or, standalone, of the agents) joined with live telemetry.
// Composition only; each part owns its job. Stopping drains the queue and closes the store.
import type { Logger } from "pino";
import { REAL_TIMERS, type Timers } from "../../common/timers.ts";
import {
  parseTopic,
  type ScheduleDecision,
  type ScheduleRequest,
  type SchedulingSummary,
  topicsFor,
} from "../../proto/index.ts";
import type { ClusterEvents } from "../cluster/index.ts";
import { liveByNodeName } from "../fleet/live.ts";
import type { FleetState } from "../fleet/state.ts";
import { podClaimKeys, type StorageView } from "../scheduler/filters/volume-types.ts";
import { buildSnapshot, createScheduler, type Plugins } from "../scheduler/index.ts";
import { createAnalytics, type DecisionRecord } from "./analytics.ts";
import { createCore } from "./core.ts";
import { agentNodeInputs, clusterNodeInputs, type NodeObject, type PodObject } from "./inputs.ts";
import type { KubeActions } from "./kube.ts";
import { createLiveReader, liveNodeName } from "./live-reader.ts";
import { createRequestHandler, DEFAULT_POLICY, type SchedulingPolicy } from "./mqtt-requests.ts";
import { createPodScheduler, keyOf, type PodScheduler } from "./pod-scheduler.ts";
import { createSerialQueue } from "./serial.ts";
import { resolveSettings, type SchedulingSettings } from "./settings.ts";
import { createSnapshotCache } from "./snapshot-cache.ts";
import { openDecisionStore } from "./store.ts";

/** The parts of the coordinator's MQTT link the service uses (mqtt/link.ts `Link` fits). */
export interface SchedulingLink {
  readonly connected: boolean;
  subscribe(filters: string[]): Promise<void>;
  onMessage(handler: (topic: string, payload: Buffer, retained: boolean) => void): void;
  publish(kind: "scheduleDecision", topic: string, message: ScheduleDecision): Promise<void>;
  on(event: "connect", listener: () => void): unknown;
  off(event: "connect", listener: () => void): unknown;
}

/** The parts of the cluster view the service reads (cluster/cluster.ts `ClusterView` fits). */
export interface SchedulingClusterView {
  /** Both informers have listed once. */
  synced(): boolean;
  nodes(): readonly NodeObject[];
  pods(): readonly PodObject[];
  /** Claims, volumes and storage classes (VolumeBinding); without it no claim exists. */
  storage?(): StorageView;
  /** Their caches have been filled by a first list (pods that use claims wait until then). */
  storageSynced?(): boolean;
  readonly events: {
    on<K extends keyof ClusterEvents>(event: K, listener: (...args: ClusterEvents[K]) => void): unknown;
    off<K extends keyof ClusterEvents>(event: K, listener: (...args: ClusterEvents[K]) => void): unknown;
  };
}

export interface SchedulingServiceOptions {
  settings: SchedulingSettings;
  /** Who sent a schedule request (mqtt-requests.ts `requester`): the embedded broker's user for its client id. */
  requester?: (request: ScheduleRequest) => string;
  link: SchedulingLink;
  /** Registers a handler for node messages as the coordinator applies them (`onNodeMessage`): they may
   *  come straight from the embedded broker rather than over `link`. */
  onNodeMessage: (handler: (topic: string, payload: Buffer) => void) => void;
  topicRoot: string;
  fleet: FleetState;
  now: () => number;
  logger: Logger;
  /** Undefined: standalone (nodes are the agents, decisions advisory, nothing created). */
  cluster?: { view: SchedulingClusterView; kube: KubeActions };
  policy?: Partial<SchedulingPolicy>;
  plugins?: Plugins;
  timers?: Timers;
  /** Called for every decision (e.g. Prometheus `observeDecision`). */
  onDecision?: (record: DecisionRecord) => void;
}

export interface SchedulingService {
  readonly mode: "cluster" | "standalone";
  /** The report's scheduling section. */
  summary(): SchedulingSummary;
  records(): readonly DecisionRecord[];
  /** Pods waiting for a decision (cluster mode). */
  pending(): number;
  /** How many times the scheduling snapshot was built. */
  snapshotBuilds(): number;
  /** Resolves when every decision queued so far has finished. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 3_600_000;
const STOP_GRACE_MS = 5_000;

export async function startScheduling(options: SchedulingServiceOptions): Promise<SchedulingService> {
  const settings = resolveSettings(options.settings);
  const log = options.logger.child({ module: "scheduling" });
  const timers = options.timers ?? REAL_TIMERS;
  const { fleet, now, link } = options;
  const topics = topicsFor(options.topicRoot);
  const policy: SchedulingPolicy = { ...DEFAULT_POLICY, ...options.policy };
  const view = options.cluster?.view;

  const store = openDecisionStore({ path: settings.storePath, keepRecords: settings.decisionWindow });
  const analytics = createAnalytics({ window: settings.decisionWindow });

  // One definition of stale: the fleet's (coordinator.staleAfterIntervals), applied by the engine to live
  // signals read at decision time (the snapshot cache's `live`).
  const engine = settings.engine;
  const liveReader = createLiveReader(fleet);
  const scheduler = createScheduler({
    config: { ...engine, live: { ...engine.live, staleAfterIntervals: fleet.options.staleAfterIntervals } },
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
  const cache = createSnapshotCache({
    assumed: scheduler.assumed,
    maxAgeMs: settings.snapshotMaxAgeMs,
    build: buildSnapshot,
    ...(view?.storage ? { storage: view.storage() } : {}),
    source: (at) => {
      liveReader.reset(); // rebuilt on births and statuses: agents may have been renamed
      const live = liveByNodeName(fleet, at);
      return view ? clusterNodeInputs(view.nodes(), view.pods(), live) : agentNodeInputs(fleet, live);
    },
    live: (at) => liveReader.at(at),
  });
  const core = createCore({
    settings,
    scheduler,
    cache,
    queue: createSerialQueue({ maxQueued: settings.maxQueuedRequests }),
    analytics,
    store,
    now,
    log,
    sleep: (ms) => new Promise((resolve) => timers.setTimeout(resolve, ms)),
    onDecision: options.onDecision,
  });

  const inFlight = new Set<string>();
  let pods: PodScheduler | undefined;
  if (options.cluster) {
    const clusterView = options.cluster.view;
    pods = createPodScheduler({
      core,
      kube: options.cluster.kube,
      timers,
      inFlight,
      // A pod that uses claims also waits for the claim, volume and class caches.
      ready: (pod) =>
        clusterView.synced() && (podClaimKeys(pod).length === 0 || (clusterView.storageSynced?.() ?? true)),
    });
  }
  const requests = createRequestHandler({
    core,
    root: options.topicRoot,
    policy,
    ...(options.cluster && pods
      ? {
          cluster: {
            kube: options.cluster.kube,
            inFlight,
            handOff: (p: PodObject) => pods?.handOff(p),
            ready: () => view?.synced() ?? false,
            pods: () => view?.pods() ?? [],
          },
        }
      : {}),
    publish: (topic, decision) => link.publish("scheduleDecision", topic, decision),
    ...(options.requester ? { requester: options.requester } : {}),
  });

  let stopped = false;
  // Informer listeners: the snapshot cache learns what changed, the pending-pod scheduler what to do.
  const onPod = (type: "add" | "update" | "delete", pod: PodObject) => {
    cache.podChanged(type, pod);
    core.podObserved(keyOf(pod), pod.spec?.nodeName, pod.status?.phase);
    pods?.podChanged(type, pod);
  };
  const onNode = (type: "add" | "update" | "delete", node: NodeObject) => {
    cache.nodeChanged(type, node);
    pods?.clusterChanged();
  };
  // Claims, volumes and classes are read live by the engine: a change only makes waiting pods try again.
  const onStorage = () => pods?.clusterChanged();
  const onResync = (kind: "node" | "pod") => {
    cache.invalidate();
    if (kind === "pod" && view) pods?.resync(view.pods());
    else pods?.clusterChanged();
  };
  if (view) {
    view.events.on("pod", onPod);
    view.events.on("node", onNode);
    view.events.on("resync", onResync);
    view.events.on("storage", onStorage);
    pods?.resync(view.pods());
  }

  // MQTT: schedule requests; agent births/statuses from the coordinator (an agent gone or back changes
  // where pods fit).
  link.onMessage((topic, payload, retained) => {
    if (stopped || topic !== topics.scheduleRequest) return;
    // A retained request is an old one the broker replays to every new subscription: acted on again after a
    // restart it would bring back a pod someone deleted. Only requests published while we listen count.
    if (retained) {
      core.warnLimited(
        "retained-request",
        { topic },
        "retained schedule request ignored: publish schedule requests without the retain flag",
      );
      return;
    }
    void requests.handle(payload);
  });
  options.onNodeMessage((topic) => {
    if (stopped) return;
    const parsed = parseTopic(topics.root, topic);
    if (!parsed.ok) return;
    const kind = parsed.topic.kind;
    // Telemetry and statuses change only the agent's live signals: its node is read again before the
    // next decision. A birth may rename or resize the node: the snapshot is built again.
    if (kind === "telemetry" || kind === "nodeStatus")
      cache.liveChanged(liveNodeName(fleet, parsed.topic.nodeId));
    if (kind === "birth") cache.invalidate();
    if (kind === "nodeStatus" || kind === "birth") pods?.clusterChanged();
  });
  const subscribe = () => {
    link
      .subscribe([topics.scheduleRequest])
      .catch((err: unknown) => log.error({ err }, "cannot subscribe to schedule requests"));
  };
  link.on("connect", subscribe);
  if (link.connected) await link.subscribe([topics.scheduleRequest]);

  let pruneTimer: unknown;
  const prune = () => {
    pruneTimer = timers.setTimeout(() => {
      core.prune();
      pruneRecords();
      prune();
    }, PRUNE_EVERY_MS);
  };
  const pruneRecords = () => {
    try {
      if (Number.isFinite(settings.decisionRetentionMs))
        store.pruneRecords(now() - settings.decisionRetentionMs);
    } catch (err) {
      log.warn({ err }, "cannot prune decision records");
    }
  };
  pruneRecords();
  prune();

  const mode = options.cluster ? "cluster" : "standalone";
  log.info(
    {
      mode,
      schedulerName: settings.schedulerName,
      namespaces: [...settings.namespaces],
      registries: settings.allowedRegistries,
      store: settings.storePath,
    },
    "scheduling started",
  );

  let stopping: Promise<void> | undefined;
  return {
    mode,
    summary: () => analytics.summary(),
    records: () => analytics.records(),
    pending: () => pods?.pending() ?? 0,
    snapshotBuilds: () => cache.rebuilds,
    idle: () => core.queue.idle(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        timers.clearTimeout(pruneTimer);
        link.off("connect", subscribe);
        if (view) {
          view.events.off("pod", onPod);
          view.events.off("node", onNode);
          view.events.off("resync", onResync);
          view.events.off("storage", onStorage);
        }
        pods?.stop();
        // Decisions in flight finish and are answered; an API server that does not answer cannot hold
        // shutdown for longer than STOP_GRACE_MS.
        let grace: unknown;
        const drained = await Promise.race([
          core.queue.idle().then(() => true),
          new Promise<false>((resolve) => {
            grace = timers.setTimeout(() => resolve(false), STOP_GRACE_MS);
          }),
        ]);
        timers.clearTimeout(grace);
        if (!drained)
          log.warn({ queued: core.queue.size }, "stopping with scheduling decisions still in flight");
        core.close();
        log.info("scheduling stopped");
      })();
      return stopping;
    },
  };
}
