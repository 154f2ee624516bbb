// The scheduling service's settings and their defaults, in one object. The CLI maps its `scheduling:`
// config section onto this; tests and benches pass partial overrides.
import { parseQuantity, type SchedulerConfigInput, toMilli, toUnits } from "../scheduler/index.ts";
import { SchedulingConfigError } from "./errors.ts";

export interface SchedulingSettings {
  /** spec.schedulerName of the pods we bind, and of the pods we create. */
  readonly schedulerName: string;
  /** Namespace of a request that names none (the CLI passes k3s.namespace). */
  readonly defaultNamespace: string;
  /** Namespaces requests may create pods in; empty means only `defaultNamespace`. */
  readonly allowedNamespaces: readonly string[];
  /**
   * Image prefixes requests may use, matched on the normalised reference ("nginx" is
   * "docker.io/library/nginx"): "docker.io/library" allows Docker Official Images, "ghcr.io/acme" one
   * organisation, "*" anything. Empty allows nothing.
   */
  readonly allowedRegistries: readonly string[];
  /** Largest CPU request or limit a request may ask for (a quantity). */
  readonly maxCpu: string;
  /** Largest memory request or limit (a quantity). */
  readonly maxMemory: string;
  /** node:sqlite file for request ids (idempotency) and decision analytics; ":memory:" keeps nothing. */
  readonly storePath: string;
  /** How long a request id is remembered. */
  readonly requestRetentionMs: number;
  /** Retry backoff of unschedulable or failed pods: initial, doubling to max (kube-scheduler: 1 s, 10 s). */
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** The scheduling snapshot is rebuilt at least this often (fresh telemetry values), and on every relevant change. */
  readonly snapshotMaxAgeMs: number;
  /** Decisions kept for the report's analytics. */
  readonly decisionWindow: number;
  /** Extra attempts of a Binding that failed with a retryable error, within one MQTT request. */
  readonly bindRetries: number;
  /** Delay before the first bind retry; doubles. */
  readonly bindRetryDelayMs: number;
  /** Largest ScheduleRequest payload decoded. */
  readonly maxRequestBytes: number;
  /** Engine configuration (weights, thresholds); defaults are the engine's. */
  readonly engine: SchedulerConfigInput;
}

export const DEFAULT_SCHEDULING_SETTINGS: SchedulingSettings = Object.freeze({
  schedulerName: "k3s-fleet",
  defaultNamespace: "default",
  allowedNamespaces: Object.freeze([]) as readonly string[],
  allowedRegistries: Object.freeze(["docker.io/library"]),
  maxCpu: "4",
  maxMemory: "8Gi",
  storePath: ":memory:",
  requestRetentionMs: 24 * 3_600_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 10_000,
  snapshotMaxAgeMs: 10_000,
  decisionWindow: 10_000,
  bindRetries: 2,
  bindRetryDelayMs: 100,
  maxRequestBytes: 64 * 1024,
  engine: Object.freeze({}),
});

/** Settings with their limits parsed once. */
export interface ResolvedSettings extends SchedulingSettings {
  readonly namespaces: ReadonlySet<string>;
  readonly maxCpuMilli: bigint;
  readonly maxMemoryBytes: bigint;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function resolveSettings(input: Partial<SchedulingSettings> = {}): ResolvedSettings {
  const s: SchedulingSettings = { ...DEFAULT_SCHEDULING_SETTINGS, ...withoutUndefined(input) };
  const problems: string[] = [];
  if (!DNS_SUBDOMAIN.test(s.schedulerName) || s.schedulerName.length > 253)
    problems.push(`schedulerName ${JSON.stringify(s.schedulerName)} is not a DNS subdomain`);
  const quantity = (name: string, text: string, unit: typeof toMilli): bigint => {
    try {
      const q = unit(parseQuantity(text));
      if (q <= 0n) problems.push(`${name} must be positive, got ${JSON.stringify(text)}`);
      return q;
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return 0n;
    }
  };
  const maxCpuMilli = quantity("maxCpu", s.maxCpu, toMilli);
  const maxMemoryBytes = quantity("maxMemory", s.maxMemory, toUnits);
  for (const [name, v] of [
    ["backoffInitialMs", s.backoffInitialMs],
    ["backoffMaxMs", s.backoffMaxMs],
    ["snapshotMaxAgeMs", s.snapshotMaxAgeMs],
    ["decisionWindow", s.decisionWindow],
    ["requestRetentionMs", s.requestRetentionMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) problems.push(`${name} must be a positive number, got ${v}`);
  }
  if (s.backoffMaxMs < s.backoffInitialMs) problems.push("backoffMaxMs must be at least backoffInitialMs");
  if (problems.length > 0) throw new SchedulingConfigError(problems);
  const namespaces = new Set(s.allowedNamespaces.length > 0 ? s.allowedNamespaces : [s.defaultNamespace]);
  return { ...s, namespaces, maxCpuMilli, maxMemoryBytes };
}

function withoutUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}
