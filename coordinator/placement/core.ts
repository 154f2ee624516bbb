// What both decision paths (pending pods, MQTT requests) share: the engine with its assume cache, the
// snapshot cache, the one serial queue, analytics and the store. Built once by the service.
import type { Logger } from "pino";
import type { Scheduler } from "../scheduler/index.ts";
import type { Analytics, DecisionRecord, NewRecord } from "./analytics.ts";
import type { SerialQueue } from "./serial.ts";
import type { ResolvedSettings } from "./settings.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";
import type { DecisionStore } from "./store.ts";

export interface SchedulingCore {
  readonly settings: ResolvedSettings;
  readonly scheduler: Scheduler;
  readonly cache: SnapshotCache;
  readonly queue: SerialQueue;
  readonly analytics: Analytics;
  readonly store: DecisionStore;
  readonly now: () => number;
  readonly log: Logger;
  /** Keeps a decision: analytics, store, and the `onDecision` hook. Never throws. */
  record(r: NewRecord): DecisionRecord;
  /** The pod (by uid) is placed by us and its binding not yet seen in the informer. */
  isAssumed(uid: string): boolean;
  /** Logs at warn at most once per `key` per minute (debug otherwise): a flood of bad requests cannot flood logs. */
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
const MAX_WARN_KEYS = 1_000;

export function createCore(parts: CoreParts): SchedulingCore {
  const { analytics, store, log, now, scheduler } = parts;
  const warned = new Map<string, number>();
  return {
    ...parts,
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
      const at = now();
      const last = warned.get(key);
      if (last !== undefined && at - last < WARN_EVERY_MS) {
        log.debug(fields, message);
        return;
      }
      if (warned.size >= MAX_WARN_KEYS) warned.clear();
      warned.set(key, at);
      log.warn(fields, message);
    },
  };
}
