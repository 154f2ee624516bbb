// Node and pod informers (client-node ListWatch: list, then watch from the list's resourceVersion, relist
// on 410), each under a supervisor. client-node's informer stops for good on a dropped connection, a
// non-410 watch error or a failed list, and only says so through its `error` callback; the supervisor
// calls start() again after a capped, jittered backoff (it resumes from the last resourceVersion and
// relists if that has expired). Readers use the informer caches; nothing here polls.
import { EventEmitter } from "node:events";
import {
  CoreV1Api,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  ListWatch,
  type ObjectCache,
  type V1Node,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Backoff, type BackoffOptions, createBackoff } from "../../common/backoff.ts";
import { REAL_TIMERS, type Timers } from "../../common/timers.ts";
import { ClusterError, describeError } from "./errors.ts";
import { type ChangeType, type ClusterEmitter, type ResourceKind, safeEmit } from "./events.ts";

export type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface SupervisorOptions<T extends KubernetesObject> {
  kind: ResourceKind;
  /** Builds the informer around the list function handed in, so the supervisor sees every (re)list. */
  createInformer: (list: ListPromise<T>) => CachedInformer<T>;
  list: ListPromise<T>;
  logger: Logger;
  timers?: Timers;
  backoff?: Backoff;
  /** After a restart, this long without another error resets the backoff. Default 60 s. */
  stableAfterMs?: number;
  onChange?: (type: ChangeType, obj: T) => void;
  /** The cache was rebuilt from a list (first list or relist); runs after the cache update. */
  onResync?: () => void;
}

export interface SupervisedInformer<T extends KubernetesObject> {
  readonly kind: ResourceKind;
  /** True once the first list has filled the cache. */
  readonly synced: boolean;
  /** How many times the informer stopped and was (or will be) started again. */
  readonly restarts: number;
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Starts the informer; resolves when the first attempt has settled (watching, or a retry scheduled). */
  start(): Promise<void>;
  /** Resolves on the first sync; rejects with K3SF_ERR_KUBE_INFORMER if stopped before it. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

// Reconnects are cheap for the apiserver but not free: start at 0.5 s, cap at 30 s (client-node's own cap).
export const DEFAULT_INFORMER_BACKOFF: Partial<BackoffOptions> = { initialMs: 500, maxMs: 30_000 };

export function superviseInformer<T extends KubernetesObject>(
  options: SupervisorOptions<T>,
): SupervisedInformer<T> {
  const { kind, onChange, onResync } = options;
  const timers = options.timers ?? REAL_TIMERS;
  const backoff = options.backoff ?? createBackoff(DEFAULT_INFORMER_BACKOFF);
  const stableAfterMs = options.stableAfterMs ?? 60_000;
  const log = options.logger.child({ informer: kind });
  let stopped = false;
  let synced = false;
  let restarts = 0;
  let errors = 0;
  let failing = false;
  let restartTimer: unknown;
  let stableTimer: unknown;
  const waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  const list: ListPromise<T> = async () => {
    const result = await options.list();
    // ListWatch applies the list to its cache right after this promise settles (same tick, after the
    // await): report the resync on the next macrotask, when the cache is complete.
    setImmediate(() => {
      if (stopped) return;
      if (!synced) {
        synced = true;
        for (const w of waiters.splice(0)) w.resolve();
      }
      onResync?.();
    });
    return result;
  };

  const informer = options.createInformer(list);
  const forward = (type: ChangeType) => (obj: T) => {
    if (stopped) return;
    onChange?.(type, obj);
  };
  informer.on("add", forward("add"));
  informer.on("update", forward("update"));
  informer.on("delete", forward("delete"));
  informer.on("error", (err) => onError(err));

  function onError(cause: unknown): void {
    // ListWatch.stop() aborts the open watch, which reports an AbortError here: not a failure.
    if (stopped) return;
    errors++;
    cancelStable();
    if (restartTimer !== undefined) return;
    restarts++;
    const delayMs = backoff.next();
    const reason = describeError(cause);
    const err = new ClusterError("K3SF_ERR_KUBE_INFORMER", `${kind} informer stopped: ${reason}`, { cause });
    // One warning per outage; further attempts in the same outage only at debug.
    if (!failing) log.warn({ err, delayMs }, `${kind} informer stopped; restarting`);
    else log.debug({ err, delayMs, attempt: backoff.attempts }, `${kind} informer still failing`);
    failing = true;
    restartTimer = timers.setTimeout(() => {
      restartTimer = undefined;
      void run();
    }, delayMs);
  }

  async function run(): Promise<void> {
    if (stopped) return;
    const before = errors;
    try {
      await informer.start();
    } catch (err) {
      onError(err);
      return;
    }
    if (stopped || errors !== before) return;
    if (failing) {
      failing = false;
      log.info({ restarts }, `${kind} informer watching again`);
    }
    // A watch that stays up for a while ends the outage: the next failure starts from a short delay.
    cancelStable();
    stableTimer = timers.setTimeout(() => {
      stableTimer = undefined;
      backoff.reset();
    }, stableAfterMs);
  }

  function cancelStable(): void {
    if (stableTimer !== undefined) timers.clearTimeout(stableTimer);
    stableTimer = undefined;
  }

  return {
    kind,
    get synced() {
      return synced;
    },
    get restarts() {
      return restarts;
    },
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    start: () => run(),
    whenSynced() {
      if (synced) return Promise.resolve();
      if (stopped) return Promise.reject(notSynced(kind));
      return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (restartTimer !== undefined) timers.clearTimeout(restartTimer);
      restartTimer = undefined;
      cancelStable();
      for (const w of waiters.splice(0)) w.reject(notSynced(kind));
      // A start() still listing when this runs ends against a closed watch (see ClosableWatch): it
      // cannot open a stream, so there is nothing to wait for.
      await informer.stop();
    },
  };
}

const notSynced = (kind: ResourceKind) =>
  new ClusterError("K3SF_ERR_KUBE_INFORMER", `${kind} informer stopped before its first list`);

export interface InformerOptions {
  kc: KubeConfig;
  logger: Logger;
  /** Where change and resync events go; one is created if not given. */
  events?: ClusterEmitter;
  timers?: Timers;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  stableAfterMs?: number;
  /** ListWatch's own reconnect delay after a clean stream end (client-node: 1 s, 2 s, ... 30 s). */
  delayFn?: (ms: number) => Promise<void>;
}

export interface ClusterInformers {
  readonly events: ClusterEmitter;
  readonly nodes: SupervisedInformer<V1Node>;
  readonly pods: SupervisedInformer<V1Pod>;
  /** Both caches have been filled by a first list. */
  synced(): boolean;
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Watch that opens nothing once closed. ListWatch.stop() only aborts the stream it already holds; a
 * reconnect in flight (after its delay, or a start() still listing) would otherwise open a stream nobody
 * stops. Closing first, then stopping, leaves no watch behind.
 */
export class ClosableWatch extends Watch {
  #closed = false;

  close(): void {
    this.#closed = true;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    // biome-ignore lint/suspicious/noExplicitAny: client-node's own signature.
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    // biome-ignore lint/suspicious/noExplicitAny: client-node's own signature.
    done: (err: any) => void,
  ): Promise<AbortController> {
    if (this.#closed) return closedController();
    const controller = await super.watch(path, queryParams, callback, done);
    if (this.#closed) controller.abort();
    return controller;
  }
}

function closedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

/** client-node's ListWatch (autoStart off) on a ClosableWatch that stop() closes first. */
export function createListWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: ListPromise<T>,
  delayFn?: (ms: number) => Promise<void>,
): CachedInformer<T> {
  const watch = new ClosableWatch(kc);
  const informer = new ListWatch<T>(path, watch, list, false, undefined, undefined, { delayFn });
  return {
    on: informer.on.bind(informer),
    off: informer.off.bind(informer),
    start: () => informer.start(),
    async stop() {
      watch.close();
      await informer.stop();
    },
    list: (namespace?: string) => informer.list(namespace),
    get: (name: string, namespace?: string) => informer.get(name, namespace),
  };
}

export const NODES_PATH = "/api/v1/nodes";
export const PODS_PATH = "/api/v1/pods";

/** Node and pod (all namespaces) informers, started; resolves after both first attempts settled. */
export async function startInformers(options: InformerOptions): Promise<ClusterInformers> {
  const { kc } = options;
  const events: ClusterEmitter = options.events ?? new EventEmitter();
  const log = options.logger.child({ part: "informers" });
  const core = kc.makeApiClient(CoreV1Api);
  const listWatch =
    <T extends KubernetesObject>(path: string) =>
    (list: ListPromise<T>): CachedInformer<T> =>
      createListWatch(kc, path, list, options.delayFn);
  const common = {
    logger: log,
    timers: options.timers,
    stableAfterMs: options.stableAfterMs,
  };
  const nodes = superviseInformer<V1Node>({
    ...common,
    kind: "node",
    createInformer: listWatch<V1Node>(NODES_PATH),
    list: () => core.listNode(),
    backoff: createBackoff({ ...DEFAULT_INFORMER_BACKOFF, ...options.backoff }, options.random),
    onChange: (type, node) => safeEmit(events, log, "node", type, node),
    onResync: () => safeEmit(events, log, "resync", "node"),
  });
  const pods = superviseInformer<V1Pod>({
    ...common,
    kind: "pod",
    createInformer: listWatch<V1Pod>(PODS_PATH),
    list: () => core.listPodForAllNamespaces(),
    backoff: createBackoff({ ...DEFAULT_INFORMER_BACKOFF, ...options.backoff }, options.random),
    onChange: (type, pod) => safeEmit(events, log, "pod", type, pod),
    onResync: () => safeEmit(events, log, "resync", "pod"),
  });
  await Promise.all([nodes.start(), pods.start()]);
  return {
    events,
    nodes,
    pods,
    synced: () => nodes.synced && pods.synced,
    whenSynced: async () => {
      await Promise.all([nodes.whenSynced(), pods.whenSynced()]);
    },
    async stop() {
      await Promise.all([nodes.stop(), pods.stop()]);
    },
  };
}
