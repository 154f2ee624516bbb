// Live signals per Kubernetes node name, from the agents' fleet state. Pure. The cluster view and the
// scheduler both read this one join: an agent joins a node by its birth's k8s_node_name, else its node id.
import { NodeHealth } from "../../proto/index.ts";
import { type FleetState, intervalOf, nodeHealth } from "./state.ts";

export interface LiveSignals {
  agentId: string;
  /** The agent is connected and reporting (not OFFLINE; STALE still counts as online but aged). */
  online: boolean;
  /** Age of the latest sample; Infinity before the first one. */
  ageMs: number;
  intervalMs: number;
  cpuPercent: number;
  memoryPercent: number;
  /** Fullest filesystem. */
  diskMaxPercent: number;
}

export function liveByNodeName(fleet: FleetState, now: number): Map<string, LiveSignals> {
  const out = new Map<string, LiveSignals>();
  for (const node of fleet.nodes.values()) {
    const name = node.birth?.k8sNodeName || node.nodeId;
    const sample = node.latest;
    const signals: LiveSignals = {
      agentId: node.nodeId,
      online: nodeHealth(fleet, node, now) !== NodeHealth.OFFLINE,
      ageMs:
        node.lastTelemetryAtMs === undefined
          ? Number.POSITIVE_INFINITY
          : Math.max(0, now - node.lastTelemetryAtMs),
      intervalMs: intervalOf(fleet, node),
      cpuPercent: sample?.cpuPercent ?? 0,
      memoryPercent: sample?.memoryPercent ?? 0,
      diskMaxPercent: sample?.diskMaxUsePercent ?? 0,
    };
    // Two agents claiming one node: the one reporting most recently speaks for it.
    const existing = out.get(name);
    if (existing === undefined || signals.ageMs < existing.ageMs) out.set(name, signals);
  }
  return out;
}
