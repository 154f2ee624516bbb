// The generic REST verbs on one object (get, create, update, patch, delete) over a ResourceDef, following
// the apiserver's generic registry: decode → default → validate → store, with its error semantics.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { canonicalJson } from "./canonical-json.ts";
import { invalid, invalidError } from "./field-errors.ts";
import { applyPatch } from "./patch.ts";
import { releaseClaims } from "./pvc-protection.ts";
import { apiVersionOf, type ResourceDef } from "./resources.ts";
import { type Reply, readBody, readJson } from "./respond.ts";
import {
  alreadyExists,
  badRequest,
  conflict,
  internalUnknown,
  MODIFIED_CONFLICT,
  notFound,
  success,
} from "./status.ts";
import type { Store } from "./store.ts";
import { normalizeTimes, timestamp } from "./time.ts";
import { isObject, type KubeObject } from "./types.ts";
import { metadataErrors, schemaErrors } from "./validate.ts";
import { present, type WatchRegistry } from "./watch.ts";

export interface ServerContext {
  store: Store;
  watches: WatchRegistry;
  bookmarkIntervalMs: number;
  defaultWatchTimeoutSeconds: number;
}

export interface RequestInfo {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const target = (def: ResourceDef) => ({ resource: def.resource, group: def.group });

/** ?dryRun=All: validate and answer as if written, but store nothing. */
export function isDryRun(info: RequestInfo): boolean {
  return info.query.getAll("dryRun").includes("All");
}

/** NamespaceLifecycle admission: writes into a namespace that does not exist are 404. */
export function requireNamespace(ctx: ServerContext, namespace: string | undefined): void {
  if (namespace !== undefined && !ctx.store.get("namespaces", undefined, namespace)) {
    throw notFound("namespaces", namespace);
  }
}

function getStored(ctx: ServerContext, def: ResourceDef, info: RequestInfo): KubeObject {
  const name = info.name ?? "";
  const obj = ctx.store.get(def.storage, info.namespace, name);
  if (!obj) throw notFound(def.resource, name, def.group);
  return obj;
}

export function get(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Reply {
  return { code: 200, body: present(def, getStored(ctx, def, info)) };
}

/** Decodes a request body as this resource's kind; the apiserver rejects a body of another kind. */
async function decode(def: ResourceDef, info: RequestInfo): Promise<KubeObject> {
  const body = await readJson(info.req);
  if (!isObject(body))
    throw badRequest(
      `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: body is not an object`,
    );
  const apiVersion = apiVersionOf(def);
  if (
    (body.kind !== undefined && body.kind !== def.kind) ||
    (body.apiVersion !== undefined && body.apiVersion !== apiVersion)
  ) {
    throw badRequest(
      `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: the object provided is unrecognized (must be of type ${def.kind}): ${String(body.apiVersion)}, Kind=${String(body.kind)}`,
    );
  }
  const obj = body as KubeObject;
  obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
  if (def.namespaced && info.namespace !== undefined) {
    if (obj.metadata.namespace && obj.metadata.namespace !== info.namespace) {
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    obj.metadata.namespace = info.namespace;
  } else if (!def.namespaced) delete obj.metadata.namespace;
  return obj;
}

/** Defaults, validates and stores a new object (storage form); shared by POST and the in-process test API. */
export function createObject(
  ctx: ServerContext,
  def: ResourceDef,
  obj: KubeObject,
  dryRun = false,
): KubeObject {
  obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
  requireNamespace(ctx, def.namespaced ? (obj.metadata.namespace ?? "") : undefined);
  const missing = schemaErrors(apiVersionOf(def), def.kind, obj);
  if (obj.metadata.resourceVersion)
    throw internalUnknown("resourceVersion should not be set on objects to be created");
  const stored = def.toStorage(obj);
  const meta = stored.metadata;
  if (!meta.name && meta.generateName) {
    meta.name = ctx.store.generateName(def.storage, meta.namespace, meta.generateName);
  }
  def.prepareForCreate(stored);
  const errors = [...missing, ...metadataErrors(stored, def.nameRule), ...def.validate(stored)];
  if (errors.length > 0) throw invalidError(def.kind, meta.name ?? "", errors, def.group);
  if (!dryRun) return ctx.store.create(target(def), stored);
  if (ctx.store.get(def.storage, meta.namespace, meta.name ?? "")) {
    throw alreadyExists(def.resource, meta.name ?? "", def.group);
  }
  const now = timestamp(ctx.store.now());
  return normalizeTimes({
    ...stored,
    metadata: { ...meta, uid: randomUUID(), creationTimestamp: now },
  }) as KubeObject;
}

export async function create(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Promise<Reply> {
  const obj = await decode(def, info);
  return { code: 201, body: present(def, createObject(ctx, def, obj, isDryRun(info))) };
}

/**
 * Validates and stores `updated` over `current` (storage form) as a privileged writer would (a kubelet
 * posting status, an operator editing spec): no spec/status split. For the in-process test API.
 */
export function replaceObject(
  ctx: ServerContext,
  def: ResourceDef,
  updated: KubeObject,
  current: KubeObject,
): KubeObject {
  const name = current.metadata.name ?? "";
  updated.metadata = { ...updated.metadata, name, namespace: current.metadata.namespace };
  if (!updated.metadata.namespace) delete updated.metadata.namespace;
  const missing = schemaErrors(apiVersionOf(def), def.kind, def.fromStorage(updated));
  const errors = [...missing, ...metadataErrors(updated, def.nameRule), ...def.validate(updated)];
  if (errors.length > 0) throw invalidError(def.kind, name, errors, def.group);
  return ctx.store.update(target(def), {
    ...updated,
    metadata: { ...updated.metadata, resourceVersion: undefined },
  });
}

/** Writes `updated` over `current` (both storage form), skipping the write when nothing changed. */
function write(
  ctx: ServerContext,
  def: ResourceDef,
  updated: KubeObject,
  current: KubeObject,
  info: RequestInfo,
): Reply {
  const status = info.subresource === "status";
  const missing = schemaErrors(apiVersionOf(def), def.kind, def.fromStorage(updated));
  if (status) def.prepareForStatusUpdate(updated, current);
  else def.prepareForUpdate(updated, current);
  const name = current.metadata.name ?? "";
  // ValidateObjectMetaUpdate: a uid in the body (a PUT, or a patch naming one) must be the stored one.
  const uid = updated.metadata.uid;
  const errors = [
    ...missing,
    ...metadataErrors(updated, def.nameRule),
    ...(uid && uid !== current.metadata.uid ? [invalid("metadata.uid", uid, "field is immutable")] : []),
    ...def.validateUpdate(updated, current),
  ];
  if (errors.length > 0) throw invalidError(def.kind, name, errors, def.group);
  const wanted = updated.metadata.resourceVersion;
  if (wanted && wanted !== current.metadata.resourceVersion)
    throw conflict(def.resource, name, MODIFIED_CONFLICT, def.group);
  normalizeTimes(updated);
  const comparable = (o: KubeObject) =>
    canonicalJson({
      ...o,
      metadata: { ...o.metadata, resourceVersion: undefined, uid: undefined, creationTimestamp: undefined },
    });
  if (comparable(updated) === comparable(current)) return { code: 200, body: present(def, current) };
  if (isDryRun(info)) {
    const { uid, creationTimestamp, resourceVersion } = current.metadata;
    return {
      code: 200,
      body: present(def, {
        ...updated,
        metadata: { ...updated.metadata, uid, creationTimestamp, resourceVersion },
      }),
    };
  }
  const stored = ctx.store.update(target(def), updated);
  // A pod that finished no longer holds its claims (the pvc-protection controller's pod handler).
  if (def.storage === "pods" && status) releaseClaims(ctx.store, current.metadata.namespace ?? "");
  return { code: 200, body: present(def, stored) };
}

export async function update(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Promise<Reply> {
  const obj = await decode(def, info);
  if (obj.metadata.name !== info.name) {
    throw badRequest(
      `the name of the object (${obj.metadata.name ?? ""}) does not match the name on the URL (${info.name ?? ""})`,
    );
  }
  const current = getStored(ctx, def, info);
  return write(ctx, def, def.toStorage(obj), current, info);
}

/** PATCH (JSON, merge and strategic merge patch): the product patches pods/status (PodScheduled=False). */
export async function patch(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Promise<Reply> {
  const body = await readJson(info.req);
  const current = getStored(ctx, def, info);
  const patched = applyPatch(
    info.req.headers["content-type"] ?? "",
    present(def, current),
    body,
  ) as KubeObject;
  const meta = isObject(patched.metadata) ? patched.metadata : {};
  if (meta.name !== info.name || (def.namespaced && meta.namespace !== info.namespace)) {
    throw badRequest(
      `the name of the object (${String(meta.name)}) does not match the name on the URL (${info.name ?? ""})`,
    );
  }
  return write(ctx, def, def.toStorage({ ...patched, metadata: meta }), current, info);
}

export async function remove(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Promise<Reply> {
  const text = await readBody(info.req);
  const current = getStored(ctx, def, info);
  let options: unknown = {};
  try {
    options = text.trim() ? JSON.parse(text) : {};
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
  const pre = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
  const name = info.name ?? "";
  if (pre.uid && pre.uid !== current.metadata.uid) {
    throw conflict(
      def.resource,
      name,
      `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${current.metadata.uid ?? ""}`,
      def.group,
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      def.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ""}`,
      def.group,
    );
  }
  const deleted = isDryRun(info)
    ? current
    : (current.metadata.finalizers ?? []).length > 0
      ? ctx.store.markDeleting(target(def), info.namespace, name)
      : ctx.store.delete(target(def), info.namespace, name);
  if (!isDryRun(info) && (def.storage === "pods" || def.storage === "persistentvolumeclaims"))
    releaseClaims(ctx.store, info.namespace ?? "");
  if (def.storage === "namespaces" && !isDryRun(info)) {
    for (const resource of ["pods", "events", "persistentvolumeclaims"]) {
      for (const obj of ctx.store.list(resource, name))
        ctx.store.delete({ resource }, name, obj.metadata.name ?? "");
    }
  }
  if (def.returnDeletedObject) return { code: 200, body: present(def, deleted) };
  const details = {
    name,
    ...(def.group ? { group: def.group } : {}),
    kind: def.resource,
    uid: deleted.metadata.uid,
  };
  return { code: 200, body: success(200, details) };
}
