// metrics.k8s.io/v1beta1 as metrics-server serves it through the aggregator: NodeMetrics and PodMetrics,
// read-only, only for nodes/pods that exist and have been scraped (had usage set). When metrics-server is
// absent the group is not registered: /apis omits it and every path under it is a plain 404.
import { type RequestInfo, requireNamespace, type ServerContext } from "./handlers.ts";
import type { Reply } from "./respond.ts";
import { parseLabelSelector } from "./selectors.ts";
import { ApiError, failure, methodNotAllowed, pathNotFound } from "./status.ts";
import { keyOf } from "./store.ts";
import { timestamp } from "./time.ts";
import { isObject, type KubeObject } from "./types.ts";

export const METRICS_GROUP = "metrics.k8s.io";
export const METRICS_VERSION = "v1beta1";
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** Resource quantities as metrics-server reports them, e.g. { cpu: "250m", memory: "512Mi" }. */
export interface Usage {
  cpu: string;
  memory: string;
}

export interface ContainerUsage extends Usage {
  name: string;
}

interface Sample<T> {
  value: T;
  at: Date;
}

export class MetricsState {
  available = true;
  /** metrics-server's scrape window. */
  window = "10s";
  readonly #nodes = new Map<string, Sample<Usage>>();
  readonly #pods = new Map<string, Sample<ContainerUsage[]>>();

  setNode(name: string, usage: Usage, at: Date): void {
    this.#nodes.set(name, { value: { ...usage }, at });
  }

  setPod(namespace: string, name: string, containers: ContainerUsage[], at: Date): void {
    this.#pods.set(keyOf(namespace, name), { value: containers.map((c) => ({ ...c })), at });
  }

  node(name: string): Sample<Usage> | undefined {
    return this.#nodes.get(name);
  }

  pod(namespace: string, name: string): Sample<ContainerUsage[]> | undefined {
    return this.#pods.get(keyOf(namespace, name));
  }
}

function metricsNotFound(resource: "nodemetrics" | "podmetrics", name: string): ApiError {
  return new ApiError(
    failure(404, "NotFound", `${resource}.${METRICS_GROUP} "${name}" not found`, {
      name,
      group: METRICS_GROUP,
      kind: resource,
    }),
  );
}

function nodeItem(state: MetricsState, node: KubeObject, now: Date): KubeObject | undefined {
  const sample = state.node(node.metadata.name ?? "");
  if (!sample) return undefined;
  return {
    metadata: {
      name: node.metadata.name,
      creationTimestamp: timestamp(now),
      labels: node.metadata.labels ?? {},
    },
    timestamp: timestamp(sample.at),
    window: state.window,
    usage: { ...sample.value },
  };
}

function podItem(state: MetricsState, pod: KubeObject, now: Date): KubeObject | undefined {
  const sample = state.pod(pod.metadata.namespace ?? "", pod.metadata.name ?? "");
  if (!sample) return undefined;
  return {
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: timestamp(now),
      labels: pod.metadata.labels ?? {},
    },
    timestamp: timestamp(sample.at),
    window: state.window,
    containers: sample.value.map(({ name, cpu, memory }) => ({ name, usage: { cpu, memory } })),
  };
}

/** Routes the path segments after /apis/metrics.k8s.io/v1beta1. */
export function metricsRoute(
  ctx: ServerContext,
  state: MetricsState,
  info: RequestInfo,
  rest: string[],
): Reply {
  if (!state.available) throw pathNotFound();
  if (info.method !== "GET") throw methodNotAllowed();
  const now = ctx.store.now();
  const selector = parseLabelSelector(info.query.get("labelSelector"));
  const list = (kind: string, items: KubeObject[]): Reply => ({
    code: 200,
    body: { kind, apiVersion: API_VERSION, metadata: {}, items },
  });
  const single = (kind: string, item: KubeObject): Reply => ({
    code: 200,
    body: { kind, apiVersion: API_VERSION, ...item },
  });
  const [first, second, third, fourth, ...extra] = rest;
  if (extra.length > 0) throw pathNotFound();
  if (first === "nodes" && third === undefined) {
    if (second === undefined) {
      const nodes = ctx.store.list("nodes").filter((n) => selector(n.metadata.labels));
      return list(
        "NodeMetricsList",
        nodes.flatMap((n) => nodeItem(state, n, now) ?? []),
      );
    }
    const node = ctx.store.get("nodes", undefined, second);
    const item = node && nodeItem(state, node, now);
    if (!item) throw metricsNotFound("nodemetrics", second);
    return single("NodeMetrics", item);
  }
  const podsIn = (namespace?: string) =>
    ctx.store.list("pods", namespace).filter((p) => selector(p.metadata.labels) && isObject(p.spec));
  if (first === "pods" && second === undefined) {
    return list(
      "PodMetricsList",
      podsIn().flatMap((p) => podItem(state, p, now) ?? []),
    );
  }
  if (first === "namespaces" && second !== undefined && third === "pods") {
    requireNamespace(ctx, second);
    if (fourth === undefined) {
      return list(
        "PodMetricsList",
        podsIn(second).flatMap((p) => podItem(state, p, now) ?? []),
      );
    }
    const pod = ctx.store.get("pods", second, fourth);
    const item = pod && podItem(state, pod, now);
    if (!item) throw metricsNotFound("podmetrics", `${second}/${fourth}`);
    return single("PodMetrics", item);
  }
  throw pathNotFound();
}
