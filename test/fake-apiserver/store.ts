// In-memory object storage with etcd's versioning: one global revision counter shared by every resource,
// each write gets the next revision as its resourceVersion (a decimal string), and a bounded history of
// changes that watches replay from. compact() drops that history like an etcd compaction, so a watch from
// an older resourceVersion gets 410 Expired (see watch.ts).
import { randomUUID } from "node:crypto";
import { alreadyExists, conflict, MODIFIED_CONFLICT, notFound } from "./status.ts";
import { normalizeTimes, timestamp } from "./time.ts";
import type { KubeObject, StoreEvent } from "./types.ts";

export interface StoreOptions {
  /** Number of changes kept for watches to replay (the watch cache's window). Default 1000. */
  historyLimit?: number;
  now?: () => Date;
  /** First resourceVersion handed out is start + 1. */
  startResourceVersion?: number;
}

/** What a write is about, for error messages: `pods "x" not found`. */
export interface Target {
  resource: string;
  group?: string;
}

const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"; // k8s.io/apimachinery/pkg/util/rand alphanums

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class Store {
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #history: StoreEvent[] = [];
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #historyLimit: number;
  readonly #now: () => Date;
  #rv: number;
  /** Oldest resourceVersion a watch may start from (events after it are all still in the history). */
  #oldestWatchable: number;

  constructor(options: StoreOptions = {}) {
    this.#historyLimit = options.historyLimit ?? 1000;
    this.#now = options.now ?? (() => new Date());
    this.#rv = options.startResourceVersion ?? 0;
    this.#oldestWatchable = this.#rv;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Watches from a resourceVersion below this get 410 Expired. */
  get oldestWatchableResourceVersion(): number {
    return this.#oldestWatchable;
  }

  now(): Date {
    return this.#now();
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.#bucket(resource).get(keyOf(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  /** Objects sorted by key (namespace/name), as etcd returns a prefix range. */
  list(resource: string, namespace?: string): KubeObject[] {
    const items = [...this.#bucket(resource).entries()]
      .filter(([, obj]) => namespace === undefined || obj.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => structuredClone(obj));
    return items;
  }

  /** Stores a new object: generates the name from generateName, sets uid, creationTimestamp, resourceVersion. */
  create(target: Target, input: KubeObject): KubeObject {
    const obj = normalizeTimes(structuredClone(input)) as KubeObject;
    const meta = obj.metadata;
    if (!meta.name && meta.generateName)
      meta.name = this.generateName(target.resource, meta.namespace, meta.generateName);
    const name = meta.name ?? "";
    const bucket = this.#bucket(target.resource);
    if (bucket.has(keyOf(meta.namespace, name))) throw alreadyExists(target.resource, name, target.group);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.#now());
    delete meta.deletionTimestamp;
    return this.#write(target.resource, "ADDED", obj, undefined);
  }

  /** The name generateName would produce: prefix + 5 random characters, unused right now. */
  generateName(resource: string, namespace: string | undefined, prefix: string): string {
    const bucket = this.#bucket(resource);
    for (;;) {
      let suffix = "";
      for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
      const name = `${prefix}${suffix}`;
      if (!bucket.has(keyOf(namespace, name))) return name;
    }
  }

  /**
   * Replaces a stored object. A non-empty metadata.resourceVersion must equal the stored one (optimistic
   * concurrency, 409 otherwise); uid and creationTimestamp are kept from the stored object.
   */
  update(target: Target, input: KubeObject): KubeObject {
    const obj = normalizeTimes(structuredClone(input)) as KubeObject;
    const name = obj.metadata.name ?? "";
    const current = this.#bucket(target.resource).get(keyOf(obj.metadata.namespace, name));
    if (!current) throw notFound(target.resource, name, target.group);
    const wanted = obj.metadata.resourceVersion;
    if (wanted && wanted !== current.metadata.resourceVersion) {
      throw conflict(target.resource, name, MODIFIED_CONFLICT, target.group);
    }
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    // A terminating object whose last finalizer is removed is gone, as the real server does it.
    if (current.metadata.deletionTimestamp) {
      obj.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      if ((obj.metadata.finalizers ?? []).length === 0) {
        const written = this.#write(target.resource, "MODIFIED", obj, current);
        this.delete(target, obj.metadata.namespace, name);
        return written;
      }
    }
    return this.#write(target.resource, "MODIFIED", obj, current);
  }

  /** A delete of an object with finalizers: only marked (deletionTimestamp), removed once they are gone. */
  markDeleting(target: Target, namespace: string | undefined, name: string): KubeObject {
    const current = this.#bucket(target.resource).get(keyOf(namespace, name));
    if (!current) throw notFound(target.resource, name, target.group);
    if (current.metadata.deletionTimestamp) return structuredClone(current);
    const obj = structuredClone(current);
    obj.metadata.deletionTimestamp = timestamp(this.#now());
    obj.metadata.deletionGracePeriodSeconds = 0;
    return this.#write(target.resource, "MODIFIED", obj, current);
  }

  /** Removes an object; returns its last state carrying the deletion's resourceVersion (like etcd's watch). */
  delete(target: Target, namespace: string | undefined, name: string): KubeObject {
    const bucket = this.#bucket(target.resource);
    const key = keyOf(namespace, name);
    const current = bucket.get(key);
    if (!current) throw notFound(target.resource, name, target.group);
    bucket.delete(key);
    return this.#record(target.resource, "DELETED", structuredClone(current), current);
  }

  /** Changes after `rv`, or "expired" when some of them were already dropped from the history. */
  eventsSince(rv: number): StoreEvent[] | "expired" {
    if (rv < this.#oldestWatchable) return "expired";
    return this.#history.filter((e) => e.rv > rv).map((e) => structuredClone(e));
  }

  /** Like an etcd compaction at the current revision: every older resourceVersion becomes unwatchable. */
  compact(): void {
    this.#history.length = 0;
    this.#oldestWatchable = this.#rv;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #bucket(resource: string): Map<string, KubeObject> {
    let bucket = this.#objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.#objects.set(resource, bucket);
    }
    return bucket;
  }

  #write(
    resource: string,
    type: "ADDED" | "MODIFIED",
    obj: KubeObject,
    prev: KubeObject | undefined,
  ): KubeObject {
    this.#rv += 1;
    obj.metadata.resourceVersion = String(this.#rv);
    this.#bucket(resource).set(keyOf(obj.metadata.namespace, obj.metadata.name ?? ""), obj);
    this.#emit({ type, resource, object: obj, prev, rv: this.#rv });
    return structuredClone(obj);
  }

  #record(resource: string, type: "DELETED", obj: KubeObject, prev: KubeObject): KubeObject {
    this.#rv += 1;
    obj.metadata.resourceVersion = String(this.#rv);
    this.#emit({ type, resource, object: obj, prev, rv: this.#rv });
    return structuredClone(obj);
  }

  #emit(event: StoreEvent): void {
    const frozen = structuredClone(event);
    this.#history.push(frozen);
    while (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.shift();
      if (dropped) this.#oldestWatchable = dropped.rv;
    }
    for (const listener of this.#listeners) listener(structuredClone(frozen));
  }
}
