// What both decision paths (pending pods, MQTT requests) share: the engine with its assume cache, the
// snapshot cache, the one serial queue, analytics and the store. Built once by the service. The store is
// used only from here: the paths say what happened (a record, a request begun or settled, a pod seen
// Running), and the core keeps it.
import type { Logger } from "pino";
import { createLogThrottle } from "../../common/log-throttle.ts";
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Analytics, DecisionRecord, NewRecord } from "./analytics.ts";
import type { PodObject } from "./inputs.ts";
import type { SerialQueue } from "./serial.ts";
import type { ResolvedSettings } from "./settings.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";
import type { DecisionStore, StoredRequest } from "./store.ts";

export interface SchedulingCore {
  readonly settings: ResolvedSettings;
  readonly scheduler: Scheduler;
  readonly cache: SnapshotCache;
  readonly queue: SerialQueue;
  readonly analytics: Analytics;
  readonly now: () => number;
  readonly log: Logger;
  /**
   * kube-scheduler's nominator: pending pods nominated to a node by a preemption (status.nominatedNodeName
   * set here at once, before the API server echoes it), by namespace/name. Every decision counts those at
   * least as important as the pod decided on their nominated node (place.ts decide). Kept by pod-scheduler.ts.
   */
  readonly nominated: Map<string, PodObject>;
  /** Keeps a decision: analytics, store, and the `onDecision` hook. Never throws. */
  record(r: NewRecord): DecisionRecord;
  /** What the store remembers of request `requestId` (idempotency). */
  storedRequest(requestId: string): StoredRequest | undefined;
  /** Who first asked with `requestId` (request ids are per requester), if known. */
  requestOwner(requestId: string): string | undefined;
  /** Records the first requester of `requestId`; a later one is not recorded. Never throws. */
  ownRequest(requestId: string, requester: string): void;
  /** A request is about to create its pod: a repeat must look for it. */
  requestBegun(requestId: string, namespace: string, podName: string, planned: ScheduleDecision): void;
  /** How a request ended: `finish` answers every repeat the same, `forget` lets a repeat start afresh. Never throws. */
  requestSettled(
    requestId: string,
    namespace: string,
    podName: string,
    persist: "finish" | "forget" | "keep",
    decision: ScheduleDecision,
  ): void;
  /** The informer shows a pod (namespace/name) in `phase` on `node`: completes its record once Running. Never throws. */
  podObserved(key: string, node: string | undefined, phase: string | undefined): void;
  /** Forgets request ids older than the retention. Never throws. */
  prune(): void;
  close(): void;
  /** The pod (by uid) is placed by us and its binding not yet seen in the informer. */
  isAssumed(uid: string): boolean;
  /**
   * Logs at warn at most once per `key` per minute, and 100 lines a minute in all (debug otherwise, with the
   * count left out on the next line): a flood of bad requests cannot flood logs.
   */
  warnLimited(key: string, fields: Record<string, unknown>, message: string): void;
  sleep(ms: number): Promise<void>;
}

export interface CoreParts {
  settings: ResolvedSettings;
  scheduler: Scheduler;
  cache: SnapshotCache;
  queue: SerialQueue;
  analytics: Analytics;
  store: DecisionStore;
  now: () => number;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  onDecision?: (record: DecisionRecord) => void;
}

const WARN_EVERY_MS = 60_000;
const WARN_LINES_PER_INTERVAL = 100;
const MAX_WARN_KEYS = 1_000;

export function createCore(parts: CoreParts): SchedulingCore {
  const { analytics, store, log, now, scheduler, settings } = parts;
  const warned = createLogThrottle({
    intervalMs: WARN_EVERY_MS,
    maxPerInterval: WARN_LINES_PER_INTERVAL,
    maxKeys: MAX_WARN_KEYS,
  });
  // What an earlier run decided, and request ids past their retention gone.
  analytics.load(store.loadRecords(settings.decisionWindow));
  store.prune(now() - settings.requestRetentionMs);
  return {
    settings,
    scheduler,
    cache: parts.cache,
    queue: parts.queue,
    analytics,
    now,
    log,
    nominated: new Map(),
    sleep: parts.sleep,
    storedRequest: (requestId) => store.request(requestId),
    requestOwner: (requestId) => store.ownerOf(requestId),
    ownRequest(requestId, requester) {
      try {
        store.own(requestId, requester, now());
      } catch (err) {
        log.error({ err, requestId }, "cannot record who asked for a request id");
      }
    },
    requestBegun(requestId, namespace, podName, planned) {
      store.begin(requestId, namespace, podName, planned, now());
    },
    requestSettled(requestId, namespace, podName, persist, decision) {
      try {
        if (persist === "finish") store.finish(requestId, namespace, podName, decision, now());
        else if (persist === "forget") store.forget(requestId);
      } catch (err) {
        log.error({ err, requestId }, "cannot store schedule decision");
      }
    },
    podObserved(key, node, phase) {
      const record = analytics.podObserved(key, node, phase);
      if (record === undefined) return;
      try {
        store.markRunning(record.id);
      } catch (err) {
        log.warn({ err }, "cannot update a decision record");
      }
    },
    prune() {
      try {
        store.prune(now() - settings.requestRetentionMs);
      } catch (err) {
        log.warn({ err }, "cannot prune request ids");
      }
    },
    close: () => store.close(),
    record(r) {
      const record = analytics.record(r);
      try {
        store.saveRecord(record);
      } catch (err) {
        log.error({ err }, "cannot keep a decision record");
      }
      try {
        parts.onDecision?.(record);
      } catch (err) {
        log.error({ err }, "onDecision hook failed");
      }
      return record;
    },
    isAssumed: (uid) => uid !== "" && scheduler.assumed.list().some((a) => a.key === uid),
    warnLimited(key, fields, message) {
      const admitted = warned.admit(key, now());
      if (!admitted.log) log.debug(fields, message);
      else if (admitted.suppressed > 0) log.warn({ ...fields, suppressed: admitted.suppressed }, message);
      else log.warn(fields, message);
    },
  };
}
