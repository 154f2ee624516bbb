// The agents' live signals for the scheduling snapshot's nodes, read at decision time: fleet/live.ts
// `liveByNodeName`'s join and values, with one difference that makes stale one rule: the age is the
// fleet's silence (since the latest telemetry or sign of life, as `nodeHealth` counts it), so the engine's
// "older than staleAfterIntervals × interval" is the report's STALE exactly — also for an agent that has
// just reconnected and not sampled yet. Each agent keeps one signals object, updated in place, and the
// name → agents index is rebuilt only when the snapshot is or the fleet grew. Pure: fleet + now in.
import { NodeHealth } from "../../proto/index.ts";
import { type FleetState, intervalOf, type NodeState, nodeHealth } from "../fleet/state.ts";
import type { LiveTelemetry } from "../scheduler/index.ts";

type Signals = { -readonly [K in keyof LiveTelemetry]: LiveTelemetry[K] };

export interface LiveReader {
  /** Signals by Kubernetes node name as of `now` (valid until the next call). */
  at(now: number): (name: string) => LiveTelemetry | undefined;
  /** Agents may have been renamed or added: index them again before the next read. */
  reset(): void;
}

interface Agent {
  readonly node: NodeState;
  readonly signals: Signals;
}

/** The name an agent's signals are joined under: its Kubernetes node name (from its birth), else its node id. */
export const liveNodeName = (fleet: FleetState, nodeId: string): string =>
  fleet.nodes.get(nodeId)?.birth?.k8sNodeName || nodeId;

export function createLiveReader(fleet: FleetState): LiveReader {
  let byName: Map<string, Agent | Agent[]> | undefined;
  let indexedSize = -1;
  const kept = new WeakMap<NodeState, Signals>();

  const index = (): Map<string, Agent | Agent[]> => {
    const out = new Map<string, Agent | Agent[]>();
    for (const node of fleet.nodes.values()) {
      const name = liveNodeName(fleet, node.nodeId);
      let signals = kept.get(node);
      if (signals === undefined) {
        signals = {
          online: false,
          ageMs: 0,
          intervalMs: 0,
          cpuPercent: 0,
          memoryPercent: 0,
          diskMaxPercent: 0,
        };
        kept.set(node, signals);
      }
      const agent = { node, signals };
      const existing = out.get(name);
      if (existing === undefined) out.set(name, agent);
      else out.set(name, Array.isArray(existing) ? [...existing, agent] : [existing, agent]);
    }
    indexedSize = fleet.nodes.size;
    return out;
  };

  const read = ({ node, signals: s }: Agent, now: number): Signals => {
    const sample = node.latest;
    s.online = nodeHealth(fleet, node, now) !== NodeHealth.OFFLINE;
    s.ageMs = Math.max(0, now - Math.max(node.lastTelemetryAtMs ?? Number.NEGATIVE_INFINITY, node.aliveAtMs));
    s.intervalMs = intervalOf(fleet, node);
    s.cpuPercent = sample?.cpuPercent ?? 0;
    s.memoryPercent = sample?.memoryPercent ?? 0;
    s.diskMaxPercent = sample?.diskMaxUsePercent ?? 0;
    return s;
  };

  return {
    at(now) {
      if (byName === undefined || indexedSize !== fleet.nodes.size) byName = index();
      const names = byName;
      return (name) => {
        const agents = names.get(name);
        if (agents === undefined) return undefined;
        if (!Array.isArray(agents)) return read(agents, now);
        // Two agents claiming one node: the one reporting most recently speaks for it.
        let best: Signals | undefined;
        for (const agent of agents) {
          const s = read(agent, now);
          if (best === undefined || s.ageMs < best.ageMs) best = s;
        }
        return best;
      };
    },
    reset() {
      byName = undefined;
    },
  };
}
