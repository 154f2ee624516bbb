// The simulator's options: one object with the defaults, and a check that lists every problem at once.
import type { Logger } from "pino";
import type { BackoffOptions } from "../common/backoff.ts";
import type { Timers } from "../common/timers.ts";
import { CONTRACT, DEFAULT_TOPIC_ROOT, nodeIdProblem, topicRootProblem } from "../proto/index.ts";
import { DEFAULT_FLAP_OPTIONS, type FlapOptions } from "./flap.ts";
import { simNodeId } from "./machine.ts";
import type { ModelOptions } from "./model.ts";
import { parseBrokerUrl } from "./wire.ts";

/** One telemetry message as it left a virtual node; `timeMs` is also its `time` field on the wire. */
export interface PublishEvent {
  nodeId: string;
  session: bigint;
  seq: bigint;
  timeMs: number;
}

export interface SimulationOptions {
  /** `mqtt://host:port` (or `tcp://`); TLS and WebSockets are not simulated. */
  brokerUrl: string;
  nodes: number;
  intervalMs: number;
  logger: Logger;
  topicRoot?: string;
  /** Node ids are `{prefix}-00001`, …; client ids `k3s-fleet-agent-{node id}` as the real agent's. */
  prefix?: string;
  keepaliveSeconds?: number;
  /** Connection attempts per second, initial and reconnects alike, so thousands of nodes do not storm. */
  connectRate?: number;
  /** Share of nodes that drop off now and then (abrupt kill → Will) and come back. */
  flapFraction?: number;
  /** Timing of flaps; `fraction` here is overridden by `flapFraction`. */
  flap?: Partial<Omit<FlapOptions, "fraction">>;
  model?: Partial<ModelOptions>;
  /** Same seed, same fleet: hardware, load patterns and flappers. */
  seed?: number;
  /** Telemetry QoS (the contract's 1 by default); births and statuses are always QoS 1. */
  telemetryQos?: 0 | 1;
  /** Extra labels on every birth. */
  labels?: Record<string, string>;
  username?: string;
  password?: string;
  /** A node with this many unacknowledged QoS 1 publishes skips its next samples instead of queueing. */
  maxInflight?: number;
  connectTimeoutMs?: number;
  /** How long `stop()` waits for the broker to confirm the OFFLINE statuses, then for sockets to close. */
  stopTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Period of the one timer; publications due in between go out together. */
  tickMs?: number;
  /** Called for every telemetry message written to a socket. */
  onPublish?: (event: PublishEvent) => void;
  /** Wall clock: message timestamps and the model's time of day. */
  now?: () => number;
  /** Monotonic clock: pacing, timeouts, latencies. */
  monotonic?: () => number;
  timers?: Timers;
}

export const DEFAULT_SIMULATION_OPTIONS = {
  topicRoot: DEFAULT_TOPIC_ROOT,
  prefix: "sim",
  keepaliveSeconds: 30,
  connectRate: 500,
  flapFraction: DEFAULT_FLAP_OPTIONS.fraction,
  seed: 1,
  telemetryQos: CONTRACT.telemetry.qos,
  maxInflight: 32,
  connectTimeoutMs: 10_000,
  stopTimeoutMs: 5_000,
  tickMs: 10,
} as const;

type Defaulted = keyof typeof DEFAULT_SIMULATION_OPTIONS;
export type ResolvedSimulationOptions = Omit<SimulationOptions, Defaulted> & {
  [K in Defaulted]-?: NonNullable<SimulationOptions[K]>;
};

/** `options` without the keys whose value is undefined, so spreading it over defaults keeps them. */
export function given<T extends object>(options: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(options ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** The options with defaults filled in; an option given as `undefined` (an unset CLI flag) takes its default. */
export function resolveSimulationOptions(options: SimulationOptions): ResolvedSimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, ...given(options) } as ResolvedSimulationOptions;
}

/** Every problem with the options, empty when they are usable. */
export function simulationOptionProblems(options: SimulationOptions): string[] {
  const o = resolveSimulationOptions(options);
  const problems: string[] = [];
  const whole = (x: number, min: number, max: number) => Number.isInteger(x) && x >= min && x <= max;
  if (!whole(o.nodes, 1, 1_000_000))
    problems.push(`nodes ${o.nodes} is not a whole number from 1 to 1000000`);
  if (!whole(o.intervalMs, 100, 86_400_000))
    problems.push(`interval ${o.intervalMs} ms is not a whole number ≥ 100`);
  const broker = parseBrokerUrl(o.brokerUrl);
  if ("problem" in broker) problems.push(broker.problem);
  const rootProblem = topicRootProblem(o.topicRoot);
  if (rootProblem) problems.push(rootProblem);
  const idProblem = nodeIdProblem(simNodeId(o.prefix, 0));
  if (o.prefix === "" || idProblem) problems.push(`prefix "${o.prefix}" does not make valid node ids`);
  if (!whole(o.keepaliveSeconds, 0, 65_535))
    problems.push(`keepalive ${o.keepaliveSeconds} s is not 0–65535`);
  if (!(o.connectRate > 0)) problems.push(`connect rate ${o.connectRate}/s is not positive`);
  if (!(o.flapFraction >= 0 && o.flapFraction <= 1))
    problems.push(`flap fraction ${o.flapFraction} is not 0–1`);
  for (const [name, range] of [
    ["flap up", o.flap?.upMs],
    ["flap down", o.flap?.downMs],
  ] as const) {
    if (range && !(range[0] >= 0 && range[1] >= range[0]))
      problems.push(`${name} range ${range} is not [min, max]`);
  }
  if (o.model?.diurnalPeriodMs !== undefined && !(o.model.diurnalPeriodMs > 0)) {
    problems.push(`diurnal period ${o.model.diurnalPeriodMs} ms is not positive`);
  }
  if (!Number.isInteger(o.seed)) problems.push(`seed ${o.seed} is not a whole number`);
  if (!whole(o.maxInflight, 1, 65_535)) problems.push(`max in-flight ${o.maxInflight} is not 1–65535`);
  if (!whole(o.tickMs, 1, 1_000)) problems.push(`tick ${o.tickMs} ms is not 1–1000`);
  if (o.telemetryQos !== 0 && o.telemetryQos !== 1)
    problems.push(`telemetry QoS ${o.telemetryQos} is not 0 or 1`);
  return problems;
}
