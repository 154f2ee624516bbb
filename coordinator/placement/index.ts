// Public surface of the scheduling service (issue 4, "Acting on decisions").

export { renderDecision, renderSchedulingSection } from "../report/scheduling-render.ts";
export {
  type Analytics,
  createAnalytics,
  type DecisionRecord,
  type DecisionSource,
  type DecisionStatusName,
  percentile,
} from "./analytics.ts";
export {
  alreadyBoundDecision,
  errorDecision,
  rejectedDecision,
  STATUS_NAME,
  toScheduleDecision,
} from "./decision.ts";
export { salvageEnvelope } from "./envelope.ts";
export {
  KubeRequestError,
  SchedulingConfigError,
  SchedulingError,
  type SchedulingErrorCode,
} from "./errors.ts";
export { imageAllowed, parseImage } from "./image.ts";
export { agentNodeInputs, clusterNodeInputs } from "./inputs.ts";
// kube.ts is not re-exported as a value: it loads @kubernetes/client-node, which standalone never does.
export type { KubeActions, PodEvent, PodRef } from "./kube.ts";
export { MANAGED_BY_LABEL, type PodManifest, podManifest, REQUEST_ID_ANNOTATION } from "./manifest.ts";
export { DEFAULT_POLICY, type SchedulingPolicy } from "./mqtt-requests.ts";
export { isPendingFor } from "./pod-scheduler.ts";
export { type CheckResult, checkRequest, replyTopicProblem, type ValidRequest } from "./policy.ts";
export {
  type SchedulingClusterView,
  type SchedulingLink,
  type SchedulingService,
  type SchedulingServiceOptions,
  startScheduling,
} from "./service.ts";
export { INTERNAL_DEFAULTS, resolveSettings, type SchedulingSettings } from "./settings.ts";
export { openDecisionStore } from "./store.ts";
