// The cluster view's one typed event map. Listeners run inside informer callbacks, so emitters wrap
// every emit: a throwing listener is logged, never allowed to break the informer's cache update.
import type { EventEmitter } from "node:events";
import type { KubernetesObject, V1Node, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { MetricsSnapshot } from "./metrics.ts";

export type ChangeType = "add" | "update" | "delete";
export type ResourceKind = "node" | "pod" | StorageKind;
/** The storage objects the volume filters read (storage.ts). */
export type StorageKind = "persistentvolumeclaim" | "persistentvolume" | "storageclass";

export interface ClusterEvents {
  /** A node was added, changed or deleted in the informer cache (the cache is already updated). */
  node: [type: ChangeType, node: V1Node];
  pod: [type: ChangeType, pod: V1Pod];
  /**
   * A claim, volume or storage class changed (cache already updated), or its cache was rebuilt from a list
   * ("resync", no object): pods waiting on storage may fit now.
   */
  storage: [kind: StorageKind, type: ChangeType | "resync", obj: KubernetesObject | undefined];
  /**
   * The cache for `kind` was rebuilt from a list: the first list, or a relist after 410 Expired (the
   * add/delete events for the differences came first). A scheduler queue should re-evaluate everything.
   */
  resync: [kind: "node" | "pod"];
  /** A metrics.k8s.io poll finished (successfully or not); `available` says which. */
  metrics: [snapshot: MetricsSnapshot];
}

export type ClusterEmitter = EventEmitter<ClusterEvents>;

export function safeEmit<K extends keyof ClusterEvents>(
  events: ClusterEmitter,
  log: Logger,
  name: K,
  ...args: ClusterEvents[K]
): void {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's generic emit cannot take a spread of a keyed tuple.
    (events.emit as (name: K, ...a: any[]) => boolean)(name, ...args);
  } catch (err) {
    log.error({ err, event: name }, "cluster event listener threw");
  }
}
