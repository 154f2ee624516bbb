// Wire-form Kubernetes objects as the fake API server stores and serves them: plain JSON, timestamps as
// RFC 3339 strings, quantities as strings. Typed loosely on purpose: the server handles several kinds.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** One change recorded in the store's watch history (`object` carries the change's resourceVersion). */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: string;
  object: KubeObject;
  /** State before the change (MODIFIED, DELETED); used to turn selector transitions into ADDED/DELETED. */
  prev?: KubeObject;
  rv: number;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
