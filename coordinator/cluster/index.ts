// Public surface of the coordinator's Kubernetes edge (cluster view) and its pure report builders.

export { formatBytes, renderClusterSection } from "../report/cluster-render.ts";
export {
  type AgentLive,
  buildClusterSummary,
  type ClusterReportInput,
  type LiveByNode,
} from "../report/cluster-section.ts";
export { type ClusterView, type ClusterViewOptions, startClusterView } from "./cluster.ts";
export {
  buildClusterState,
  type ClusterState,
  healthPercent,
  isNodeReady,
  isTerminated,
  type NodeLike,
  type NodeState,
  type PodLike,
  type ResourceUsage,
} from "./cluster-state.ts";
export {
  attemptCluster,
  type ClusterAttempt,
  type ClusterConnection,
  type ClusterWait,
  type ClusterWaitOptions,
  type ConnectOptions,
  clusterAskedFor,
  connectCluster,
  failureCode,
  probeVersion,
  waitForCluster,
} from "./connect.ts";
export { ClusterError, type ClusterErrorCode, describeError } from "./errors.ts";
export type { ChangeType, ClusterEmitter, ClusterEvents, ResourceKind } from "./events.ts";
export {
  type ClusterInformers,
  type InformerOptions,
  type SupervisedInformer,
  type SupervisorOptions,
  startInformers,
  superviseInformer,
} from "./informers.ts";
export {
  describeResolution,
  K3S_KUBECONFIG,
  type KubeconfigResolution,
  type KubeconfigSource,
  loadKubeConfig,
  type ResolveInput,
  resolveKubeconfig,
} from "./kubeconfig.ts";
export {
  createMetricsPoller,
  EMPTY_METRICS,
  type MetricsPoller,
  type MetricsPollerOptions,
  type MetricsSnapshot,
  type MetricsSource,
  nodeUsage,
  podUsage,
} from "./metrics.ts";
export { type StorageInformers, startStorageInformers } from "./storage.ts";
