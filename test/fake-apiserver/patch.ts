// The three PATCH bodies the apiserver accepts from client-node: JSON Patch (RFC 6902, client-node's
// default Content-Type), JSON Merge Patch (RFC 7386) and strategic merge patch. Strategic merge is merge
// patch plus list merging by the patchMergeKey of the list fields a scheduler touches (conditions by type,
// containers by name, ...) and the `$patch: delete|replace` directives; other lists are replaced.
import { canonicalJson } from "./canonical-json.ts";
import { ApiError, badRequest, failure, unsupportedMediaType } from "./status.ts";
import { isObject, type JsonObject } from "./types.ts";

export const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
] as const;

/** patchMergeKey of list fields (path without indices) in k8s.io/api/core/v1 and meta/v1 types. */
const MERGE_KEYS: Record<string, string> = {
  "metadata.ownerReferences": "uid",
  "spec.containers": "name",
  "spec.initContainers": "name",
  "spec.containers.env": "name",
  "spec.containers.ports": "containerPort",
  "spec.containers.volumeMounts": "mountPath",
  "spec.volumes": "name",
  "spec.imagePullSecrets": "name",
  "status.conditions": "type",
  "status.addresses": "type",
};
/** Lists of scalars with patchStrategy "merge" (union). */
const MERGED_SCALAR_LISTS = new Set(["metadata.finalizers"]);

function unprocessable(message: string): ApiError {
  return new ApiError(failure(422, "Invalid", message));
}

export function applyPatch(contentType: string, target: JsonObject, body: unknown): JsonObject {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  switch (type) {
    case "application/json-patch+json":
      if (!Array.isArray(body))
        throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
      return applyJsonPatch(target, body);
    case "application/merge-patch+json":
      if (!isObject(body)) throw badRequest("the body of a merge patch must be a JSON object");
      return mergePatch(target, body) as JsonObject;
    case "application/strategic-merge-patch+json":
      if (!isObject(body)) throw badRequest("the body of a strategic merge patch must be a JSON object");
      return strategicMerge(target, body, "") as JsonObject;
    default:
      throw unsupportedMediaType(type, [...PATCH_TYPES, "application/apply-patch+yaml"]);
  }
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function strategicMerge(target: unknown, patch: unknown, path: string): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) continue; // $setElementOrder/..., $retainKeys: ordering hints, ignored
    const child = path ? `${path}.${key}` : key;
    if (value === null) delete out[key];
    else if (Array.isArray(value)) out[key] = mergeList(out[key], value, child);
    else {
      const merged = strategicMerge(out[key], value, child);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
  }
  return out;
}

function mergeList(current: unknown, patch: unknown[], path: string): unknown[] {
  const base = Array.isArray(current) ? [...current] : [];
  if (MERGED_SCALAR_LISTS.has(path)) return [...new Set([...base, ...patch])];
  const key = MERGE_KEYS[path];
  if (!key) return structuredClone(patch.filter((item) => !(isObject(item) && item.$patch)));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = base.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) base.splice(index, 1);
    } else if (index >= 0) base[index] = strategicMerge(base[index], item, path);
    else base.push(strategicMerge(undefined, item, path));
  }
  return base;
}

function pointer(path: unknown): string[] {
  if (typeof path !== "string" || (path !== "" && !path.startsWith("/"))) {
    throw badRequest(`JSON Patch path must be a JSON Pointer, got ${JSON.stringify(path)}`);
  }
  return path === ""
    ? []
    : path
        .slice(1)
        .split("/")
        .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: unknown; last: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return { parent: node, last: tokens[tokens.length - 1] ?? "" };
}

function getAt(doc: unknown, path: string): unknown {
  let node = doc;
  for (const token of pointer(path)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return node;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent) && Number(last) < parent.length) return parent.splice(Number(last), 1)[0];
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return value;
  }
  throw unprocessable(`doc is missing path: "${path}": missing value`);
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return structuredClone(value);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index > parent.length ||
      (replace && index >= parent.length)
    ) {
      throw unprocessable(`doc is missing path: "${path}": missing value`);
    }
    parent.splice(index, replace ? 1 : 0, structuredClone(value));
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, last)) {
      throw unprocessable(`doc is missing path: "${path}": missing value`);
    }
    parent[last] = structuredClone(value);
  } else throw unprocessable(`doc is missing path: "${path}": missing value`);
  return doc;
}

export function applyJsonPatch(target: JsonObject, operations: unknown[]): JsonObject {
  let doc: unknown = structuredClone(target);
  for (const op of operations) {
    if (!isObject(op)) throw badRequest("JSON Patch operations must be objects");
    const path = String(op.path ?? "");
    switch (op.op) {
      case "add":
        doc = addAt(doc, path, op.value, false);
        break;
      case "replace":
        doc = addAt(doc, path, op.value, true);
        break;
      case "remove":
        removeAt(doc, path);
        break;
      case "move":
        doc = addAt(doc, path, removeAt(doc, String(op.from ?? "")), false);
        break;
      case "copy":
        doc = addAt(doc, path, getAt(doc, String(op.from ?? "")), false);
        break;
      case "test":
        if (canonicalJson(getAt(doc, path)) !== canonicalJson(op.value)) {
          throw unprocessable(`testing value ${path} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${String(op.op)}`);
    }
  }
  if (!isObject(doc)) throw unprocessable("the patched document is not an object");
  return doc;
}
