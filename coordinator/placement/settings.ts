// The scheduling service's settings. Product settings have no defaults here: the config schema
// (cli/config/schema.ts) holds them, and cli/config/scheduling.ts maps its `scheduling:` section onto this.
// Only internal tuning that is not a setting has a value of its own (INTERNAL_DEFAULTS).
import { parseQuantity, type SchedulerConfigInput, toMilli, toUnits } from "../scheduler/index.ts";
import { SchedulingConfigError } from "./errors.ts";
import type { QuotaLimits } from "./quota.ts";

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
  /** The scheduling snapshot is rebuilt at least this often (live signals are read at every decision). */
  readonly snapshotMaxAgeMs: number;
  /** Decisions kept for the report's analytics. */
  readonly decisionWindow: number;
  /**
   * Engine configuration (weights, scoring strategy, live thresholds). `live.staleAfterIntervals` is not
   * taken from here: stale is the fleet's own rule (coordinator.staleAfterIntervals), see service.ts.
   */
  readonly engine: SchedulerConfigInput;
  /** Extra attempts of a Binding that failed with a retryable error, within one MQTT request. */
  readonly bindRetries?: number;
  /** Delay before the first bind retry; doubles. */
  readonly bindRetryDelayMs?: number;
  /** Largest ScheduleRequest payload decoded. */
  readonly maxRequestBytes?: number;
  /** Decisions older than this are deleted from the store. */
  readonly decisionRetentionMs?: number;
  /** MQTT requests queued or deciding at most (quota.ts, serial.ts). */
  readonly maxQueuedRequests?: number;
  /** Per-requester bounds (quota.ts); 0 turns one off. */
  readonly quota?: QuotaLimits;
}

/** Internal tuning, not product settings. */
export const INTERNAL_DEFAULTS = Object.freeze({
  bindRetries: 2,
  bindRetryDelayMs: 100,
  maxRequestBytes: 64 * 1024,
  // Unbounded for library callers that do not say; the config schema sets the product defaults.
  decisionRetentionMs: Number.POSITIVE_INFINITY,
  maxQueuedRequests: Number.POSITIVE_INFINITY,
  quota: { requestsPerMinute: 0, cpuMillis: 0, memoryBytes: 0 } as QuotaLimits,
});

/** Settings with their limits parsed once. */
export interface ResolvedSettings extends Required<SchedulingSettings> {
  readonly namespaces: ReadonlySet<string>;
  readonly maxCpuMilli: bigint;
  readonly maxMemoryBytes: bigint;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function resolveSettings(input: SchedulingSettings): ResolvedSettings {
  const s = { ...INTERNAL_DEFAULTS, ...withoutUndefined(input) } as Required<SchedulingSettings>;
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
