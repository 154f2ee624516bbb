// Public surface of the pure scheduling engine. No I/O: adapters build snapshots and act on decisions.
export { type AssumeCache, type AssumedPod, createAssumeCache } from "./assume.ts";
export {
  DEFAULT_SCHEDULER_CONFIG,
  resolveSchedulerConfig,
  type SchedulerConfig,
  type SchedulerConfigInput,
  type ScoredResource,
  type ScoringStrategy,
  validateSchedulerConfig,
} from "./config.ts";
export {
  DEFAULT_PLUGINS,
  type Decision,
  type PluginScore,
  type Plugins,
  type Rejection,
  schedule,
} from "./engine.ts";
export {
  QuantityError,
  SchedulerConfigError,
  SchedulerError,
  type SchedulerErrorCode,
  SnapshotError,
} from "./errors.ts";
export { fitErrorMessage, NO_NODES_MESSAGE, scheduledMessage } from "./explain.ts";
export type * from "./k8s-types.ts";
export { refreshLive } from "./live-refresh.ts";
export {
  type DefinedFilter,
  defineFilter,
  type FilterDefinition,
  type FilterPlugin,
  type FilterResult,
  filterPlugin,
  type PluginContext,
  type Reject,
  type ScorePlugin,
} from "./plugins.ts";
export { type PodResources, podResources } from "./pod-requests.ts";
export {
  compareQuantities,
  formatQuantity,
  parseQuantity,
  type Quantity,
  type QuantityFormat,
  quantityFromMilli,
  quantityFromUnits,
  toMilli,
  toUnits,
} from "./quantity.ts";
export { createScheduler, type Scheduler } from "./scheduler.ts";
export {
  buildSnapshot,
  type LiveTelemetry,
  type NodeInfo,
  type NodeInput,
  type Snapshot,
  type SnapshotInput,
} from "./snapshot.ts";
