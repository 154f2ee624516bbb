// Public surface of the fake Kubernetes API server for tests.
export { makeNode, makePod, type NodeSpecInput, type PodSpecInput, type Taint } from "./builders.ts";
export { type ClientFailure, clientFailure, failureOf } from "./client-status.ts";
export type { DelayRule, FailRule, Faults } from "./faults.ts";
export type { ContainerUsage, Usage } from "./metrics.ts";
export { type RawResponse, rawRequest } from "./raw-client.ts";
export {
  type FakeApiServer,
  type FakeApiServerOptions,
  type RequestRecord,
  startFakeApiServer,
} from "./server.ts";
export type { Status } from "./status.ts";
export type { PodPhase } from "./test-api.ts";
export type { KubeObject } from "./types.ts";
export type { DropMode } from "./watch.ts";
