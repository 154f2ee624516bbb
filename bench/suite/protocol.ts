// Shapes of the requests and replies between the suite and its child processes (IPC, JSON-safe).
import type { LatencyFigures, MsHistogramData } from "./harness.ts";

export interface CoordinatorStart {
  /** Run the embedded aedes broker in the coordinator's process (as `--embedded-broker`). */
  embedded: boolean;
  /** External broker when not embedded. */
  brokerUrl?: string;
  topicRoot: string;
  reportIntervalMs: number;
  staleAfterIntervals: number;
  offlineAfterIntervals: number;
  defaultIntervalMs: number;
  logLevel?: string;
}

/** Per node: [session (decimal string), first seq, last seq] published during the window. */
export type ExpectedRanges = Array<[string, Array<[string, number, number]>]>;

export interface WindowCounts {
  /** Telemetry messages applied to fleet state during the window. */
  received: number;
  seconds: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage-collection pauses in the window: how many, their sum, the longest, the longest mark-compact. */
  gc?: { count: number; totalMs: number; maxMs: number; majorMaxMs: number };
  /** Ingest rejections, duplicates and net gaps counted by the coordinator itself during the window. */
  rejected: number;
  duplicates: number;
  gaps: number;
}

export interface LossCheck {
  expected: number;
  found: number;
  lost: number;
  examples: string[];
  latency: MsHistogramData;
  receivedTotal: number;
  receivedAfterWindow: number;
  /** Messages that did not become the node's `latest` (late, duplicate, rejected). */
  notLatest: number;
  undecodable: number;
  nodesSeen: number;
}

export interface OfflineWatchResult {
  /** Per node: when (Date.now() in the coordinator) the Will was applied, and when a 100 ms poll of
   *  nodeHealth first said STALE and OFFLINE. */
  nodes: Record<string, { willAt?: number; staleAt?: number; offlineAt?: number }>;
}

export interface ScheduleLoadArgs {
  ratePerSecond: number;
  durationMs: number;
  maxDecisions: number;
  snapshotMaxAgeMs?: number;
}

export interface ScheduleLoadResult {
  decisions: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencyFigures;
  scheduled: number;
  unschedulable: number;
  avgFeasible: number;
  snapshotNodes: number;
  snapshotBuildsMs: number[];
  /** Most decisions that were due and not yet made at one timer tick. */
  maxBehind: number;
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  nodes: number;
  byHealth: Record<string, number>;
}

export interface SimulatorStart {
  brokerUrl: string;
  nodes: number;
  intervalMs: number;
  keepaliveSeconds: number;
  connectRate: number;
  topicRoot: string;
  prefix: string;
  seed: number;
}

export interface SimWindow {
  expected: ExpectedRanges;
  published: number;
  seconds: number;
  skipped: number;
  lagged: number;
  lostInFlight: number;
  errors: number;
  errorsByCode: Record<string, number>;
  ackP99Ms: number;
  connected: number;
}
