// metrics.k8s.io usage (what metrics-server reports), polled: metrics are not watchable. When the API
// group is absent (404: metrics-server not installed, common on trimmed K3s) the snapshot says
// available=false, which is logged once, and polling carries on so the values appear when it is installed.
import type { NodeMetricsList, PodMetricsList } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { REAL_TIMERS, type Timers } from "../../common/timers.ts";
import { parseQuantity, toMilli, toUnits } from "../scheduler/index.ts";
import type { ResourceUsage } from "./cluster-state.ts";
import { ClusterError, describeError, httpStatusOf } from "./errors.ts";

export type { ResourceUsage };

export interface MetricsSnapshot {
  /** metrics.k8s.io answered (recently enough, see staleAfterMs). */
  readonly available: boolean;
  /** When the values were scraped (ms since epoch); undefined before the first successful scrape. */
  readonly fetchedAt: number | undefined;
  readonly nodes: ReadonlyMap<string, ResourceUsage>;
  /** "namespace/name" → sum over the pod's containers. */
  readonly pods: ReadonlyMap<string, ResourceUsage>;
}

export const EMPTY_METRICS: MetricsSnapshot = Object.freeze({
  available: false,
  fetchedAt: undefined,
  nodes: new Map(),
  pods: new Map(),
});

/** What the poller reads; client-node's `Metrics` class fits. */
export interface MetricsSource {
  getNodeMetrics(): Promise<NodeMetricsList>;
  getPodMetrics(namespace?: string): Promise<PodMetricsList>;
}

/** CPU ("250000000n", "1500m", "2") to millicores and memory ("524288Ki") to bytes; undefined if malformed. */
export function parseUsage(usage: { cpu?: string; memory?: string } | undefined): ResourceUsage | undefined {
  if (usage?.cpu === undefined || usage.memory === undefined) return undefined;
  try {
    return {
      cpuMillis: toMilli(parseQuantity(usage.cpu)),
      memoryBytes: toUnits(parseQuantity(usage.memory)),
    };
  } catch {
    return undefined;
  }
}

/** Node name → usage. Items with malformed quantities are left out. */
export function nodeUsage(list: NodeMetricsList): Map<string, ResourceUsage> {
  const out = new Map<string, ResourceUsage>();
  for (const item of list.items ?? []) {
    const usage = parseUsage(item.usage);
    if (usage !== undefined && item.metadata?.name) out.set(item.metadata.name, usage);
  }
  return out;
}

/** "namespace/name" → usage summed over containers. A pod with a malformed container quantity is left out. */
export function podUsage(list: PodMetricsList): Map<string, ResourceUsage> {
  const out = new Map<string, ResourceUsage>();
  for (const item of list.items ?? []) {
    let cpuMillis = 0n;
    let memoryBytes = 0n;
    let valid = true;
    for (const container of item.containers ?? []) {
      const usage = parseUsage(container.usage);
      if (usage === undefined) {
        valid = false;
        break;
      }
      cpuMillis += usage.cpuMillis;
      memoryBytes += usage.memoryBytes;
    }
    if (valid && item.metadata?.name) {
      out.set(`${item.metadata.namespace ?? ""}/${item.metadata.name}`, { cpuMillis, memoryBytes });
    }
  }
  return out;
}

export interface MetricsPollerOptions {
  source: MetricsSource;
  logger: Logger;
  intervalMs: number;
  timers?: Timers;
  now?: () => number;
  /** Also scrape pod metrics. Default true. */
  pods?: boolean;
  /** Through failed scrapes (other than 404), keep the last values this long. Default 3 × intervalMs. */
  staleAfterMs?: number;
  /** After every scrape, with the resulting snapshot. */
  onUpdate?: (snapshot: MetricsSnapshot) => void;
}

export interface MetricsPoller {
  snapshot(): MetricsSnapshot;
  /** Scrapes now (joins a scrape in flight). Never rejects: failures are in the snapshot and the log. */
  refresh(): Promise<MetricsSnapshot>;
  /** Scrapes now, then again `intervalMs` after each scrape finished. */
  start(): Promise<MetricsSnapshot>;
  /** Stops polling; resolves once a scrape in flight has finished (its result is dropped). */
  stop(): Promise<void>;
}

type State = "unknown" | "ok" | "absent" | "failing";

export function createMetricsPoller(options: MetricsPollerOptions): MetricsPoller {
  const { source, intervalMs } = options;
  const timers = options.timers ?? REAL_TIMERS;
  const now = options.now ?? Date.now;
  const scrapePods = options.pods ?? true;
  const staleAfterMs = options.staleAfterMs ?? 3 * intervalMs;
  const log = options.logger.child({ part: "metrics" });
  let snapshot: MetricsSnapshot = EMPTY_METRICS;
  let state: State = "unknown";
  let inFlight: Promise<MetricsSnapshot> | undefined;
  let timer: unknown;
  let running = false;
  let stopped = false;

  async function scrape(): Promise<MetricsSnapshot> {
    let nodes: Map<string, ResourceUsage>;
    try {
      nodes = nodeUsage(await source.getNodeMetrics());
    } catch (cause) {
      return failed(cause);
    }
    let pods = new Map<string, ResourceUsage>();
    if (scrapePods && !stopped) {
      try {
        pods = podUsage(await source.getPodMetrics());
      } catch (err) {
        log.debug({ err: describeError(err) }, "pod metrics scrape failed; node metrics kept");
      }
    }
    if (state === "absent" || state === "failing")
      log.info("metrics.k8s.io available: usage is back in reports");
    state = "ok";
    return { available: true, fetchedAt: now(), nodes, pods };
  }

  function failed(cause: unknown): MetricsSnapshot {
    if (httpStatusOf(cause) === 404) {
      if (state !== "absent") {
        log.info(
          "metrics.k8s.io not available (metrics-server not installed?): reports carry no used CPU/memory",
        );
      }
      state = "absent";
      return { ...EMPTY_METRICS, fetchedAt: snapshot.fetchedAt };
    }
    if (state !== "failing") {
      const err = new ClusterError(
        "K3SF_ERR_KUBE_METRICS",
        `metrics.k8s.io scrape failed: ${describeError(cause)}`,
        {
          cause,
        },
      );
      log.warn({ err }, "metrics.k8s.io scrape failed; retrying every interval");
    }
    state = "failing";
    const fresh = snapshot.fetchedAt !== undefined && now() - snapshot.fetchedAt <= staleAfterMs;
    return fresh ? snapshot : { ...EMPTY_METRICS, fetchedAt: snapshot.fetchedAt };
  }

  function refresh(): Promise<MetricsSnapshot> {
    inFlight ??= scrape().then((next) => {
      inFlight = undefined;
      if (stopped) return snapshot;
      snapshot = next;
      try {
        options.onUpdate?.(next);
      } catch (err) {
        log.error({ err }, "metrics listener threw");
      }
      if (running) {
        // A manual refresh restarts the interval rather than adding a second timer chain.
        if (timer !== undefined) timers.clearTimeout(timer);
        timer = timers.setTimeout(tick, intervalMs);
      }
      return next;
    });
    return inFlight;
  }

  function tick(): void {
    timer = undefined;
    if (running) void refresh();
  }

  return {
    snapshot: () => snapshot,
    refresh,
    start() {
      if (stopped) return Promise.resolve(snapshot);
      running = true;
      return refresh();
    },
    async stop() {
      running = false;
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
