// ClusterSummary for FleetReport.cluster: the cluster state joined with metrics.k8s.io usage and live
// agent telemetry. Agent telemetry joins Kubernetes nodes by node name; nodes without an agent and
// agents without a node both show. Pure: data in, message out.
import { create } from "@bufbuild/protobuf";
import {
  type ClusterNodeReport,
  ClusterNodeReportSchema,
  type ClusterSummary,
  ClusterSummarySchema,
} from "../../proto/index.ts";
import {
  buildClusterState,
  type NodeLike,
  type PodLike,
  type ResourceUsage,
} from "../cluster/cluster-state.ts";

/** Live telemetry of the agent on a node, keyed in LiveByNode by the Kubernetes node name. */
export interface AgentLive {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  /** Offline (or stale) agents still count as present (has_agent) but carry no live values. */
  readonly online: boolean;
  /** The agent's node id, when it differs from the node name (shown for agents without a node). */
  readonly agentId?: string;
}

export type LiveByNode = ReadonlyMap<string, AgentLive>;

export interface ClusterReportInput {
  /** API server URL. */
  readonly server: string;
  readonly nodes: readonly NodeLike[];
  readonly pods: readonly PodLike[];
  /** metrics.k8s.io; a MetricsSnapshot fits. Usage is only reported when `available`. */
  readonly metrics: { readonly available: boolean; readonly nodes: ReadonlyMap<string, ResourceUsage> };
  readonly live: LiveByNode;
}

export function buildClusterSummary(input: ClusterReportInput): ClusterSummary {
  const state = buildClusterState(input.nodes, input.pods);
  const { metrics, live } = input;
  const names = new Set<string>();
  const nodes: ClusterNodeReport[] = state.nodes.map((n) => {
    names.add(n.name);
    const used = metrics.available ? metrics.nodes.get(n.name) : undefined;
    const agent = live.get(n.name);
    const liveValues = agent?.online === true ? agent : undefined;
    return create(ClusterNodeReportSchema, {
      name: n.name,
      ready: n.ready,
      unschedulable: n.unschedulable,
      pods: n.pods,
      cpuCapacityMillis: n.cpuCapacityMillis,
      cpuAllocatableMillis: n.cpuAllocatableMillis,
      cpuRequestedMillis: n.cpuRequestedMillis,
      cpuUsedMillis: used?.cpuMillis,
      cpuLivePercent: liveValues?.cpuPercent,
      memoryCapacityBytes: n.memoryCapacityBytes,
      memoryAllocatableBytes: n.memoryAllocatableBytes,
      memoryRequestedBytes: n.memoryRequestedBytes,
      memoryUsedBytes: used?.memoryBytes,
      memoryLivePercent: liveValues?.memoryPercent,
      hasAgent: agent !== undefined,
    });
  });
  const agentsWithoutNode = [...live]
    .filter(([name]) => !names.has(name))
    .map(([name, agent]) => agent.agentId ?? name)
    .sort();
  return create(ClusterSummarySchema, {
    server: input.server,
    totalNodes: state.totalNodes,
    readyNodes: state.readyNodes,
    totalPods: state.totalPods,
    runningPods: state.runningPods,
    nodeHealthPercent: state.nodeHealthPercent,
    podHealthPercent: state.podHealthPercent,
    metricsAvailable: metrics.available,
    nodes,
    agentsWithoutNode,
  });
}
