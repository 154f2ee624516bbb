// Maps a request path onto discovery, the metrics group, the Binding subresource or a resource verb,
// following the apiserver's URL layout:
//   /api/v1/{resource}[/{name}[/{subresource}]]                       cluster-scoped, or all namespaces
//   /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]      namespaced
//   /apis/{group}/{version}/...                                       same shapes for API groups
import { bind } from "./binding.ts";
import {
  coreVersions,
  DEFAULT_VERSION,
  group,
  groupList,
  resourceList,
  type VersionInfo,
} from "./discovery.ts";
import { create, get, patch, type RequestInfo, remove, type ServerContext, update } from "./handlers.ts";
import { list } from "./list.ts";
import { METRICS_GROUP, METRICS_VERSION, type MetricsState, metricsRoute } from "./metrics.ts";
import { apiVersionOf, RESOURCES, type ResourceDef } from "./resources.ts";
import type { Reply } from "./respond.ts";
import { methodNotAllowed, pathNotFound } from "./status.ts";

export interface RouterContext extends ServerContext {
  metrics: MetricsState;
  version?: VersionInfo;
  serverAddress: string;
}

function findDef(groupVersion: string, resource: string | undefined): ResourceDef | undefined {
  return RESOURCES.find((d) => apiVersionOf(d) === groupVersion && d.resource === resource);
}

const ok = (body: unknown): Reply => ({ code: 200, body });

/** Collection, item or subresource of one resource; `undefined` reply means the response was streamed. */
async function resourceVerb(
  ctx: RouterContext,
  def: ResourceDef,
  info: RequestInfo,
): Promise<Reply | undefined> {
  const { method, name, subresource } = info;
  if (name === undefined) {
    if (method === "GET") return list(ctx, def, info);
    if (method === "POST" && (!def.namespaced || info.namespace !== undefined)) return create(ctx, def, info);
    throw methodNotAllowed();
  }
  if (subresource === "binding" && def.resource === "pods" && def.group === "") {
    if (method === "POST") return bind(ctx, info);
    throw methodNotAllowed();
  }
  if (subresource !== undefined && (subresource !== "status" || !def.hasStatus)) throw pathNotFound();
  switch (method) {
    case "GET":
      return get(ctx, def, info);
    case "PUT":
      return update(ctx, def, info);
    case "PATCH":
      return patch(ctx, def, info);
    case "DELETE":
      if (subresource) throw methodNotAllowed();
      return remove(ctx, def, info);
    default:
      throw methodNotAllowed();
  }
}

/** Routes the segments after a group/version prefix ("v1" or "events.k8s.io/v1"). */
async function groupVersionRoute(
  ctx: RouterContext,
  groupVersion: string,
  rest: string[],
  info: RequestInfo,
): Promise<Reply | undefined> {
  const [first, second, third, fourth, fifth, ...extra] = rest;
  if (extra.length > 0) throw pathNotFound();
  if (
    first === "namespaces" &&
    second !== undefined &&
    third !== undefined &&
    third !== "status" &&
    third !== "finalize"
  ) {
    if (third === "bindings" && groupVersion === "v1" && fourth === undefined) {
      if (info.method !== "POST") throw methodNotAllowed();
      return bind(ctx, { ...info, namespace: second });
    }
    const def = findDef(groupVersion, third);
    if (!def?.namespaced) throw pathNotFound();
    return resourceVerb(ctx, def, { ...info, namespace: second, name: fourth, subresource: fifth });
  }
  const def = findDef(groupVersion, first);
  if (!def || fourth !== undefined) throw pathNotFound();
  if (def.namespaced && second !== undefined) throw pathNotFound();
  return resourceVerb(ctx, def, { ...info, name: second, subresource: third });
}

export async function route(ctx: RouterContext, info: RequestInfo): Promise<Reply | undefined> {
  const segments = info.path.split("/").filter(Boolean);
  const [root, a, b, ...rest] = segments;
  if (segments.length === 1 && (root === "healthz" || root === "livez" || root === "readyz")) {
    return { code: 200, body: "ok", headers: { "Content-Type": "text/plain; charset=utf-8" } };
  }
  if (root === "version" && segments.length === 1) return ok(ctx.version ?? DEFAULT_VERSION);
  if (root === "api") {
    if (a === undefined) return ok(coreVersions(ctx.serverAddress));
    if (a !== "v1") throw pathNotFound();
    if (b === undefined) return ok(resourceList("", "v1", ctx.metrics.available));
    return groupVersionRoute(ctx, "v1", [b, ...rest], info);
  }
  if (root === "apis") {
    const available = ctx.metrics.available;
    if (a === undefined) return ok(groupList(available));
    if (b === undefined) {
      const doc = group(a, available);
      if (!doc) throw pathNotFound();
      return ok(doc);
    }
    if (a === METRICS_GROUP) {
      if (!available || b !== METRICS_VERSION) throw pathNotFound();
      if (rest.length === 0) return ok(resourceList(a, b, available));
      return metricsRoute(ctx, ctx.metrics, info, rest);
    }
    if (rest.length === 0) {
      const doc = resourceList(a, b, available);
      if (!doc) throw pathNotFound();
      return ok(doc);
    }
    return groupVersionRoute(ctx, `${a}/${b}`, rest, info);
  }
  throw pathNotFound();
}
