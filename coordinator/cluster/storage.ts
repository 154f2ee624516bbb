// PersistentVolumeClaim, PersistentVolume and StorageClass informers (same supervision as nodes and pods,
// informers.ts), and the read-only StorageView the volume filters decide on. Every change is told as one
// `storage` event, so pods waiting for a claim, a volume or a class are tried again when it appears.
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  StorageV1Api,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
  type V1StorageClass,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type BackoffOptions, createBackoff } from "../../common/backoff.ts";
import type { Timers } from "../../common/timers.ts";
import type { StorageView } from "../scheduler/filters/volume-types.ts";
import { type ClusterEmitter, type StorageKind, safeEmit } from "./events.ts";
import {
  type CachedInformer,
  createListWatch,
  DEFAULT_INFORMER_BACKOFF,
  type SupervisedInformer,
  superviseInformer,
} from "./informers.ts";

export const CLAIMS_PATH = "/api/v1/persistentvolumeclaims";
export const VOLUMES_PATH = "/api/v1/persistentvolumes";
export const STORAGE_CLASSES_PATH = "/apis/storage.k8s.io/v1/storageclasses";

export interface StorageInformerOptions {
  kc: KubeConfig;
  logger: Logger;
  events: ClusterEmitter;
  timers?: Timers;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  stableAfterMs?: number;
  delayFn?: (ms: number) => Promise<void>;
}

export interface StorageInformers {
  readonly claims: SupervisedInformer<V1PersistentVolumeClaim>;
  readonly volumes: SupervisedInformer<V1PersistentVolume>;
  readonly classes: SupervisedInformer<V1StorageClass>;
  /** The caches as the engine reads them. */
  readonly view: StorageView;
  synced(): boolean;
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the three informers; resolves when their first attempts settled. */
export async function startStorageInformers(options: StorageInformerOptions): Promise<StorageInformers> {
  const { kc, events } = options;
  const log = options.logger.child({ part: "storage-informers" });
  const core = kc.makeApiClient(CoreV1Api);
  const storage = kc.makeApiClient(StorageV1Api);
  const supervise = <T extends KubernetesObject>(kind: StorageKind, path: string, list: ListPromise<T>) =>
    superviseInformer<T>({
      kind,
      logger: log,
      timers: options.timers,
      stableAfterMs: options.stableAfterMs,
      createInformer: (l: ListPromise<T>): CachedInformer<T> => createListWatch(kc, path, l, options.delayFn),
      list,
      backoff: createBackoff({ ...DEFAULT_INFORMER_BACKOFF, ...options.backoff }, options.random),
      onChange: (type, obj) => safeEmit(events, log, "storage", kind, type, obj),
      // A relist may have brought what a waiting pod needs.
      onResync: () => safeEmit(events, log, "storage", kind, "resync", undefined),
    });
  const claims = supervise<V1PersistentVolumeClaim>("persistentvolumeclaim", CLAIMS_PATH, () =>
    core.listPersistentVolumeClaimForAllNamespaces(),
  );
  const volumes = supervise<V1PersistentVolume>("persistentvolume", VOLUMES_PATH, () =>
    core.listPersistentVolume(),
  );
  const classes = supervise<V1StorageClass>("storageclass", STORAGE_CLASSES_PATH, () =>
    storage.listStorageClass(),
  );
  await Promise.all([claims.start(), volumes.start(), classes.start()]);
  const all = [claims, volumes, classes];
  return {
    claims,
    volumes,
    classes,
    view: {
      claim: (namespace, name) => claims.get(name, namespace),
      volume: (name) => volumes.get(name),
      volumes: () => volumes.list(),
      storageClass: (name) => classes.get(name),
    },
    synced: () => all.every((i) => i.synced),
    whenSynced: async () => {
      await Promise.all(all.map((i) => i.whenSynced()));
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
