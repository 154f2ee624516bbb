// List and watch on a collection: label/field selectors, resourceVersion semantics (unset/"0" = current
// state, n > current = 504 Timeout, Exact on a compacted version = 410), limit/continue paging with the
// first page's resourceVersion, and ?watch=true|1 handed to the watch registry.
import type { RequestInfo, ServerContext } from "./handlers.ts";
import { apiVersionOf, type ResourceDef } from "./resources.ts";
import type { Reply } from "./respond.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { badRequest, expired, tooLargeResourceVersion } from "./status.ts";
import { keyOf } from "./store.ts";
import type { KubeObject } from "./types.ts";
import { objectMatches, present, type Selection, type WatchRequest } from "./watch.ts";

export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value === "true" || value === "1";
}

function parseResourceVersion(text: string | null): number | undefined {
  if (!text || text === "0") return undefined;
  if (!/^\d+$/.test(text)) {
    throw badRequest(
      `resourceVersion: Invalid value: "${text}": strconv.ParseUint: parsing "${text}": invalid syntax`,
    );
  }
  return Number(text);
}

/** The object as a list item: upstream omits apiVersion/kind on items of a list. */
function listItem(def: ResourceDef, obj: KubeObject): KubeObject {
  const { apiVersion: _v, kind: _k, ...rest } = present(def, obj);
  return rest as KubeObject;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ContinueToken;
    if (typeof parsed.rv === "number" && typeof parsed.start === "string") return parsed;
  } catch {}
  throw badRequest(
    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
  );
}

export function list(ctx: ServerContext, def: ResourceDef, info: RequestInfo): Reply | undefined {
  const { query, namespace } = info;
  const labelSelector = parseLabelSelector(query.get("labelSelector"));
  const fieldSelector = parseFieldSelector(query.get("fieldSelector"), def.fieldLabels);
  const rv = parseResourceVersion(query.get("resourceVersion"));
  if (queryFlag(query, "watch")) {
    const timeout = Number(query.get("timeoutSeconds") ?? Number.NaN);
    const request: WatchRequest = {
      def,
      namespace,
      labelSelector,
      fieldSelector,
      resourceVersion: rv,
      allowBookmarks: queryFlag(query, "allowWatchBookmarks"),
      timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : ctx.defaultWatchTimeoutSeconds,
      bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    };
    ctx.watches.serve(ctx.store, info.res, info.path, request);
    return undefined;
  }
  const store = ctx.store;
  if (rv !== undefined && rv > store.resourceVersion)
    throw tooLargeResourceVersion(rv, store.resourceVersion);
  if (query.get("resourceVersionMatch") === "Exact" && rv !== undefined && rv !== store.resourceVersion) {
    if (rv < store.oldestWatchableResourceVersion) {
      throw expired(`too old resource version: ${rv} (${store.oldestWatchableResourceVersion})`);
    }
    throw badRequest(
      "the fake API server cannot serve resourceVersionMatch=Exact for a past resourceVersion",
    );
  }
  const selection: Selection = { def, namespace, labelSelector, fieldSelector };
  let items = store.list(def.storage, namespace).filter((obj) => objectMatches(selection, obj));
  let listRv = store.resourceVersion;
  const token = query.get("continue");
  if (token) {
    const cont = decodeContinue(token);
    if (cont.rv < store.oldestWatchableResourceVersion) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    listRv = cont.rv;
    items = items.filter((obj) => keyOf(obj.metadata.namespace, obj.metadata.name ?? "") > cont.start);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
  const limit = Number(query.get("limit") ?? 0);
  if (limit > 0 && items.length > limit) {
    const last = items[limit - 1] as KubeObject;
    const start = keyOf(last.metadata.namespace, last.metadata.name ?? "");
    metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, start })).toString("base64url");
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  return {
    code: 200,
    body: {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def),
      metadata,
      items: items.map((o) => listItem(def, o)),
    },
  };
}
