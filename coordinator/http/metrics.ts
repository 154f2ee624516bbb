// Prometheus metrics for the coordinator. Values are read from the coordinator's own counters and state at
// scrape time (collect callbacks), so the per-message hot path pays nothing for them. Labels stay bounded:
// reasons and states are small fixed sets; per-node gauges are one series per node.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { NodeHealth } from "../../proto/index.ts";
import type { RunningCoordinator } from "../fleet/fleet-service.ts";
import { nodeHealth } from "../fleet/state.ts";

const HEALTH_NAMES: Record<number, string> = {
  [NodeHealth.ONLINE]: "online",
  [NodeHealth.STALE]: "stale",
  [NodeHealth.OFFLINE]: "offline",
};

export interface CoordinatorMetrics {
  registry: Registry;
  /** Called by the scheduling service for every decision. */
  observeDecision(source: string, status: string, seconds: number): void;
  /** Called by the Kubernetes edge for every failed API call. */
  countKubeError(operation: string, code: string): void;
}

/** A Prometheus counter that mirrors a total kept elsewhere: each scrape adds what grew since the last. */
export function mirrorCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
) {
  const last = new Map<string, number>();
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, value] of read()) {
        const key = JSON.stringify(labels);
        const grown = value - (last.get(key) ?? 0);
        if (grown > 0) this.inc(labels, grown);
        else if (!last.has(key)) this.inc(labels, 0);
        last.set(key, value);
      }
    },
  });
}

export function createCoordinatorMetrics(coordinator: RunningCoordinator): CoordinatorMetrics {
  const registry = new Registry();
  const counters = () => coordinator.counters();

  mirrorCounter(
    registry,
    "k3sfleet_ingest_messages_total",
    "MQTT messages handed to ingest, and those that decoded.",
    ["result"],
    () => {
      const c = counters();
      return [
        [{ result: "received" }, c.received],
        [{ result: "decoded" }, c.decoded],
      ];
    },
  );
  mirrorCounter(
    registry,
    "k3sfleet_ingest_rejected_total",
    "Messages counted and dropped, by reason.",
    ["reason"],
    () => Object.entries(counters().rejected).map(([reason, n]) => [{ reason }, n]),
  );
  mirrorCounter(
    registry,
    "k3sfleet_node_id_conflicts_total",
    "Births refused because another machine (install id) held the node id and was ONLINE.",
    [],
    () => [[{}, counters().idConflicts]],
  );
  mirrorCounter(
    registry,
    "k3sfleet_ingest_duplicates_total",
    "Telemetry dropped as duplicates by (node, session, seq).",
    [],
    () => [[{}, counters().duplicates]],
  );
  mirrorCounter(
    registry,
    "k3sfleet_ingest_gaps_total",
    "Telemetry sequence numbers never received.",
    [],
    () => [[{}, counters().gaps]],
  );
  mirrorCounter(
    registry,
    "k3sfleet_reports_published_total",
    "Fleet reports published, failed, and skipped (the previous one still being built).",
    ["result"],
    () => {
      const c = counters();
      return [
        [{ result: "ok" }, c.reportsPublished],
        [{ result: "failed" }, c.reportPublishFailures],
        [{ result: "skipped" }, c.reportsSkipped],
      ];
    },
  );
  new Gauge({
    name: "k3sfleet_report_build_seconds",
    help: "Wall time of the last fleet report's build and encode (done in slices between ingest).",
    registers: [registry],
    collect() {
      this.set(counters().lastReportMs / 1000);
    },
  });

  new Gauge({
    name: "k3sfleet_nodes",
    help: "Nodes known to the coordinator, by health.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const now = coordinator.now();
      const byState = { online: 0, stale: 0, offline: 0 } as Record<string, number>;
      for (const node of coordinator.fleet.nodes.values()) {
        const name = HEALTH_NAMES[nodeHealth(coordinator.fleet, node, now)];
        if (name) byState[name] = (byState[name] ?? 0) + 1;
      }
      for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
    },
  });

  const perNode = (
    name: string,
    help: string,
    read: (n: import("../fleet/state.ts").NodeState) => number | undefined,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["node"],
      registers: [registry],
      collect() {
        // Reset so a node that left the fleet does not linger as a stale series.
        this.reset();
        for (const node of coordinator.fleet.nodes.values()) {
          const value = read(node);
          if (value !== undefined) this.set({ node: node.nodeId }, value);
        }
      },
    });
  perNode(
    "k3sfleet_node_cpu_percent",
    "Latest CPU use reported by the node's agent.",
    (n) => n.latest?.cpuPercent,
  );
  perNode(
    "k3sfleet_node_memory_percent",
    "Latest memory use reported by the node's agent.",
    (n) => n.latest?.memoryPercent,
  );
  perNode(
    "k3sfleet_node_disk_max_percent",
    "Fullest filesystem reported by the node's agent.",
    (n) => n.latest?.diskMaxUsePercent,
  );

  const decisions = new Counter({
    name: "k3sfleet_schedule_decisions_total",
    help: "Scheduling decisions, by source (mqtt, pod) and status.",
    labelNames: ["source", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "k3sfleet_schedule_decision_seconds",
    help: "Time from a request (or a pending pod) to its decision.",
    labelNames: ["source"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const kubeErrors = new Counter({
    name: "k3sfleet_kube_api_errors_total",
    help: "Failed Kubernetes API calls, by operation and HTTP status (or error code).",
    labelNames: ["operation", "code"],
    registers: [registry],
  });

  return {
    registry,
    observeDecision(source, status, seconds) {
      decisions.inc({ source, status });
      latency.observe({ source }, seconds);
    },
    countKubeError(operation, code) {
      kubeErrors.inc({ operation, code });
    },
  };
}
