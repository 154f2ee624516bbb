// A pod's effective request, as k8s.io/component-helpers/resource PodRequests computes it:
// sum of containers, element-wise max with each init container (restartable "sidecar" init
// containers accumulate), plus overhead. Sums are exact (nano-unit bigints) and only the pod total
// is rounded up to scheduler units (milli-CPU, bytes), as framework.Resource.Add does.
import { QuantityError } from "./errors.ts";
import type { Pod, ResourceList } from "./k8s-types.ts";
import { parseQuantity } from "./quantity.ts";

/** Scheduler units: CPU in milli-cores, everything else in whole units (bytes, devices). */
export interface PodResources {
  readonly cpu: bigint;
  readonly memory: bigint;
  readonly ephemeralStorage: bigint;
  /** Extended resources (vendor.com/gpu), hugepages-*, attachable-volumes-*: units. Sorted by name. */
  readonly scalars: ReadonlyMap<string, bigint>;
  /** CPU with kube-scheduler's 100m default for containers that set no CPU request (scoring only). */
  readonly nonZeroCpu: bigint;
  /** Memory with the 200Mi default for containers that set no memory request (scoring only). */
  readonly nonZeroMemory: bigint;
}

// pkg/scheduler/util: DefaultMilliCPURequest = 100, DefaultMemoryRequest = 200 * 1024 * 1024.
export const DEFAULT_MILLI_CPU_REQUEST = 100n;
export const DEFAULT_MEMORY_REQUEST = 200n * 1024n * 1024n;

const NANO = 1_000_000_000n;
const NON_ZERO_DEFAULTS: ReadonlyMap<string, bigint> = new Map([
  ["cpu", DEFAULT_MILLI_CPU_REQUEST * 1_000_000n],
  ["memory", DEFAULT_MEMORY_REQUEST * NANO],
]);

type Amounts = Map<string, bigint>;

/** Parses a ResourceList into exact nano-unit amounts; negative requests are invalid in Kubernetes. */
export function parseResourceList(list: ResourceList | undefined, where: string): Amounts {
  const out: Amounts = new Map();
  if (list === undefined) return out;
  for (const [name, value] of Object.entries(list)) {
    let nanos: bigint;
    try {
      nanos = parseQuantity(value).nanos;
    } catch (err) {
      throw new QuantityError(value, `${where}.${name}: ${(err as Error).message}`, { cause: err });
    }
    if (nanos < 0n) throw new QuantityError(value, `${where}.${name} must be greater than or equal to 0`);
    out.set(name, nanos);
  }
  return out;
}

const add = (into: Amounts, from: ReadonlyMap<string, bigint>): void => {
  for (const [name, v] of from) into.set(name, (into.get(name) ?? 0n) + v);
};

const max = (into: Amounts, from: ReadonlyMap<string, bigint>): void => {
  for (const [name, v] of from) if (v > (into.get(name) ?? 0n)) into.set(name, v);
};

// resourcehelper applyNonMissing: a default replaces a *missing* key only; an explicit 0 stays 0.
function withDefaults(requests: Amounts): Amounts {
  const out = new Map(requests);
  for (const [name, v] of NON_ZERO_DEFAULTS) if (!out.has(name)) out.set(name, v);
  return out;
}

interface ParsedSpec {
  readonly containers: readonly Amounts[];
  readonly init: ReadonlyArray<{ readonly requests: Amounts; readonly restartable: boolean }>;
  readonly overhead: Amounts;
}

function parseSpec(pod: Pod): ParsedSpec {
  const spec = pod.spec ?? {};
  return {
    containers: (spec.containers ?? []).map((c, i) =>
      parseResourceList(c.resources?.requests, `containers[${i}].resources.requests`),
    ),
    init: (spec.initContainers ?? []).map((c, i) => ({
      requests: parseResourceList(c.resources?.requests, `initContainers[${i}].resources.requests`),
      restartable: c.restartPolicy === "Always",
    })),
    overhead: parseResourceList(spec.overhead, "overhead"),
  };
}

function aggregate(spec: ParsedSpec, nonMissing: boolean): Amounts {
  const result: Amounts = new Map();
  for (const c of spec.containers) add(result, nonMissing ? withDefaults(c) : c);
  const restartable: Amounts = new Map();
  const initMax: Amounts = new Map();
  for (const c of spec.init) {
    const requests = nonMissing ? withDefaults(c.requests) : c.requests;
    if (c.restartable) {
      // Sidecars keep running: they add to the pod total and to every later init container's peak.
      add(result, requests);
      add(restartable, requests);
      max(initMax, restartable);
    } else {
      const peak = new Map(requests);
      add(peak, restartable);
      max(initMax, peak);
    }
  }
  max(result, initMax);
  add(result, spec.overhead);
  return result;
}

/** resourcehelper.PodRequests, exact. `nonMissing` applies the scoring defaults per container. */
export const podRequestNanos = (pod: Pod, nonMissing: boolean): Amounts =>
  aggregate(parseSpec(pod), nonMissing);

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** v1helper.IsScalarResourceName: extended, hugepages-*, attachable-volumes-* and prefixed native names. */
export const isScalarResourceName = (name: string): boolean =>
  name.includes("/") || name.startsWith("hugepages-") || name.startsWith("attachable-volumes-");

/** framework.Resource.Add for one resource: CPU → MilliValue, the rest → Value (both round up). */
export const toSchedulerUnits = (name: string, nanos: bigint): bigint =>
  name === "cpu" ? ceilDiv(nanos, 1_000_000n) : ceilDiv(nanos, NANO);

export function podResources(pod: Pod): PodResources {
  const spec = parseSpec(pod);
  const real = aggregate(spec, false);
  const nonZero = aggregate(spec, true);
  const scalars = new Map<string, bigint>();
  for (const name of [...real.keys()].sort()) {
    if (isScalarResourceName(name)) scalars.set(name, toSchedulerUnits(name, real.get(name) as bigint));
  }
  const units = (m: Amounts, name: string): bigint => toSchedulerUnits(name, m.get(name) ?? 0n);
  return {
    cpu: units(real, "cpu"),
    memory: units(real, "memory"),
    ephemeralStorage: units(real, "ephemeral-storage"),
    scalars,
    nonZeroCpu: units(nonZero, "cpu"),
    nonZeroMemory: units(nonZero, "memory"),
  };
}
