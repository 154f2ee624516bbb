// Pods waiting for a decision, kube-scheduler's scheduling queue in small: a pod is due at once when it
// appears; after a failed attempt (unschedulable, or the API failed) it waits a backoff that doubles from
// `initialMs` to `maxMs` and is tried again when that runs out. When the cluster changes (a node appears,
// a pod frees capacity, an agent comes back), waiting pods are tried `initialMs` after their last attempt
// instead, without resetting the backoff. Time is injected. `onDue(key)` is called when a key becomes due;
// the caller queues the attempt.
import type { Timers } from "../../common/timers.ts";

export interface PendingQueueOptions {
  initialMs: number;
  maxMs: number;
  timers: Timers;
  now: () => number;
  onDue: (key: string) => void;
}

export interface PendingQueue {
  /** Tracks `key`; due now unless it is already tracked (then its backoff stands). */
  add(key: string): void;
  /** The attempt failed: due again after the next backoff; returns the delay. */
  failed(key: string): number;
  /** Stop tracking `key` (bound, deleted, no longer ours). */
  done(key: string): void;
  /** Something changed that may make waiting pods fit: each is due `initialMs` after its last failure. */
  clusterChanged(): void;
  has(key: string): boolean;
  /** Consecutive failed attempts of `key`. */
  attempts(key: string): number;
  readonly size: number;
  stop(): void;
}

interface Entry {
  attempts: number;
  /** When the current backoff ends. */
  until: number;
  /** When the last attempt failed. */
  failedAt: number;
  timer: unknown;
}

export function createPendingQueue(options: PendingQueueOptions): PendingQueue {
  const { timers, now, onDue } = options;
  const entries = new Map<string, Entry>();
  let stopped = false;

  const clear = (entry: Entry): void => {
    if (entry.timer !== undefined) timers.clearTimeout(entry.timer);
    entry.timer = undefined;
  };
  const dueAt = (key: string, entry: Entry, at: number): void => {
    clear(entry);
    const delay = Math.max(0, at - now());
    entry.timer = timers.setTimeout(() => {
      entry.timer = undefined;
      if (!stopped && entries.get(key) === entry) onDue(key);
    }, delay);
  };

  return {
    add(key) {
      if (stopped || entries.has(key)) return;
      const entry: Entry = {
        attempts: 0,
        until: now(),
        failedAt: Number.NEGATIVE_INFINITY,
        timer: undefined,
      };
      entries.set(key, entry);
      dueAt(key, entry, entry.until);
    },
    failed(key) {
      let entry = entries.get(key);
      if (entry === undefined) {
        entry = { attempts: 0, until: 0, failedAt: 0, timer: undefined };
        entries.set(key, entry);
      }
      entry.attempts++;
      const delay = Math.min(options.maxMs, options.initialMs * 2 ** (entry.attempts - 1));
      entry.failedAt = now();
      entry.until = entry.failedAt + delay;
      if (!stopped) dueAt(key, entry, entry.until);
      return delay;
    },
    done(key) {
      const entry = entries.get(key);
      if (entry === undefined) return;
      clear(entry);
      entries.delete(key);
    },
    clusterChanged() {
      if (stopped) return;
      const at = now();
      for (const [key, entry] of entries) {
        if (entry.timer === undefined) continue; // due already: its attempt is queued or running
        const soon = Math.max(at, entry.failedAt + options.initialMs);
        if (soon < entry.until) {
          entry.until = soon;
          dueAt(key, entry, soon);
        }
      }
    },
    has: (key) => entries.has(key),
    attempts: (key) => entries.get(key)?.attempts ?? 0,
    get size() {
      return entries.size;
    },
    stop() {
      stopped = true;
      for (const entry of entries.values()) clear(entry);
      entries.clear();
    },
  };
}
