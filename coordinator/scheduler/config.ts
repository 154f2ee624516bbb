// One configuration object for the engine, its defaults, and a validator that lists every problem.
import { addedAffinityProblems } from "./added-affinity.ts";
import { SchedulerConfigError } from "./errors.ts";
import type { NodeAffinity } from "./k8s-types.ts";
import { isScalarResourceName } from "./pod-requests.ts";

export type ScoringStrategy = "LeastAllocated" | "MostAllocated";
/** cpu, memory, ephemeral-storage, or an extended resource such as nvidia.com/gpu or hugepages-2Mi. */
export type ScoredResource = string;

export interface SchedulerConfig {
  /** Integer weight per score plugin, 0 disables the plugin. Defaults follow kube-scheduler where it has one. */
  readonly weights: {
    /** NodeResourcesFit scoring (LeastAllocated/MostAllocated); kube-scheduler: 1. */
    readonly resourceAllocation: number;
    /** NodeResourcesBalancedAllocation; kube-scheduler: 1. */
    readonly balancedAllocation: number;
    /** TaintToleration (PreferNoSchedule); kube-scheduler: 3. */
    readonly taintToleration: number;
    /** NodeAffinity (preferred terms); kube-scheduler: 2. */
    readonly nodeAffinity: number;
    /** PodTopologySpread-style spreading of the pod's app; kube-scheduler: 2. */
    readonly spread: number;
    /** Live CPU load (Trimaran TargetLoadPacking); no kube-scheduler default. */
    readonly liveLoad: number;
    /** InterPodAffinity (preferred terms, and existing pods' terms); kube-scheduler: 2. */
    readonly interPodAffinity: number;
  };
  /** InterPodAffinityArgs. */
  readonly interPodAffinity: {
    /** Score weight of an existing pod's required affinity term the incoming pod matches; kube-scheduler: 1. */
    readonly hardPodAffinityWeight: number;
  };
  /** NodeAffinityArgs. */
  readonly nodeAffinity: {
    /** Node affinity added to every pod (required terms filter, preferred terms score); see added-affinity.ts. */
    readonly addedAffinity: NodeAffinity | undefined;
  };
  /** NodeResourcesFit scoringStrategy.type. */
  readonly scoringStrategy: ScoringStrategy;
  /**
   * NodeResourcesFit scoringStrategy.resources (also the resources BalancedAllocation compares). An
   * extended resource counts only for a pod that requests it, as in kube-scheduler.
   */
  readonly resources: ReadonlyArray<{ readonly name: ScoredResource; readonly weight: number }>;
  /** Filters on the agent's live telemetry. */
  readonly live: {
    /** Reject nodes that report no telemetry at all (otherwise they may simply have no agent). */
    readonly requireTelemetry: boolean;
    /** Telemetry older than this many reporting intervals is stale. */
    readonly staleAfterIntervals: number;
    readonly cpuPressurePercent: number;
    readonly memoryPressurePercent: number;
    readonly diskPressurePercent: number;
  };
  /** Trimaran TargetLoadPacking arguments. */
  readonly liveLoad: {
    readonly targetUtilizationPercent: number;
    /** CPU predicted for a container with neither limit nor request (Trimaran DefaultRequestsMilliCores). */
    readonly defaultRequestsMilliCores: number;
    /** Request × multiplier predicts usage when no limit is set (Trimaran DefaultRequestsMultiplier). */
    readonly requestsMultiplier: number;
    /** Score for a node without telemetry: neither preferred nor avoided. */
    readonly neutralScore: number;
  };
  readonly spread: {
    /** Pod labels that identify "the same app"; the selector is every one of them the pod carries. */
    readonly labelKeys: readonly string[];
    /** maxSkew of the hostname constraint kube-scheduler adds by default (3). */
    readonly maxSkew: number;
  };
  readonly assume: {
    /** How long a pod placed by us counts on its node before the cluster (or telemetry) must confirm it. */
    readonly ttlMs: number;
  };
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = Object.freeze({
  weights: Object.freeze({
    resourceAllocation: 1,
    balancedAllocation: 1,
    taintToleration: 3,
    nodeAffinity: 2,
    spread: 2,
    // As strong as spreading: a busy node should lose to an idle one of equal allocation.
    liveLoad: 2,
    interPodAffinity: 2,
  }),
  interPodAffinity: Object.freeze({ hardPodAffinityWeight: 1 }),
  nodeAffinity: Object.freeze({ addedAffinity: undefined }),
  scoringStrategy: "LeastAllocated",
  resources: Object.freeze([
    Object.freeze({ name: "cpu", weight: 1 }),
    Object.freeze({ name: "memory", weight: 1 }),
  ]),
  live: Object.freeze({
    requireTelemetry: false,
    staleAfterIntervals: 3,
    cpuPressurePercent: 95,
    memoryPressurePercent: 95,
    // kubelet's default hard eviction threshold is nodefs.available < 10%.
    diskPressurePercent: 90,
  }),
  liveLoad: Object.freeze({
    targetUtilizationPercent: 40,
    defaultRequestsMilliCores: 1000,
    requestsMultiplier: 1.5,
    neutralScore: 50,
  }),
  spread: Object.freeze({
    labelKeys: Object.freeze(["app", "app.kubernetes.io/name", "app.kubernetes.io/instance"]),
    maxSkew: 3,
  }),
  assume: Object.freeze({ ttlMs: 30_000 }),
}) as SchedulerConfig;

type DeepPartial<T> = {
  readonly [K in keyof T]?: T[K] extends readonly unknown[] | NodeAffinity | undefined
    ? T[K]
    : DeepPartial<T[K]>;
};
export type SchedulerConfigInput = DeepPartial<SchedulerConfig>;

const SCORED_RESOURCES: ReadonlySet<string> = new Set(["cpu", "memory", "ephemeral-storage"]);
/** Why `name` cannot be scored, or undefined when it can. */
export const scoredResourceProblem = (name: unknown): string | undefined =>
  typeof name === "string" && (SCORED_RESOURCES.has(name) || isScalarResourceName(name))
    ? undefined
    : `${JSON.stringify(name)} is not cpu, memory, ephemeral-storage or an extended resource (e.g. nvidia.com/gpu)`;

export function validateSchedulerConfig(c: SchedulerConfig): string[] {
  const problems: string[] = [];
  const intIn = (path: string, v: unknown, min: number, max: number): void => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${path} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  const numIn = (path: string, v: unknown, min: number, max: number): void => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      problems.push(`${path} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  for (const [name, w] of Object.entries(c.weights)) intIn(`weights.${name}`, w, 0, 100);
  if (c.scoringStrategy !== "LeastAllocated" && c.scoringStrategy !== "MostAllocated") {
    problems.push(
      `scoringStrategy must be LeastAllocated or MostAllocated, got ${JSON.stringify(c.scoringStrategy)}`,
    );
  }
  if (!Array.isArray(c.resources) || c.resources.length === 0)
    problems.push("resources must list at least one resource");
  else {
    c.resources.forEach((r, i) => {
      const problem = scoredResourceProblem(r.name);
      if (problem !== undefined) problems.push(`resources[${i}].name: ${problem}`);
      else if (c.resources.findIndex((o) => o.name === r.name) < i)
        problems.push(`resources[${i}].name ${JSON.stringify(r.name)} is listed twice`);
      intIn(`resources[${i}].weight`, r.weight, 1, 100);
    });
  }
  if (typeof c.live.requireTelemetry !== "boolean") problems.push("live.requireTelemetry must be a boolean");
  numIn("live.staleAfterIntervals", c.live.staleAfterIntervals, 1, 1_000);
  numIn("live.cpuPressurePercent", c.live.cpuPressurePercent, 0, 100);
  numIn("live.memoryPressurePercent", c.live.memoryPressurePercent, 0, 100);
  numIn("live.diskPressurePercent", c.live.diskPressurePercent, 0, 100);
  intIn("liveLoad.targetUtilizationPercent", c.liveLoad.targetUtilizationPercent, 1, 99);
  intIn("liveLoad.defaultRequestsMilliCores", c.liveLoad.defaultRequestsMilliCores, 0, 1_000_000_000);
  numIn("liveLoad.requestsMultiplier", c.liveLoad.requestsMultiplier, 0, 1_000);
  intIn("liveLoad.neutralScore", c.liveLoad.neutralScore, 0, 100);
  if (
    !Array.isArray(c.spread.labelKeys) ||
    !c.spread.labelKeys.every((k) => typeof k === "string" && k.length > 0)
  ) {
    problems.push("spread.labelKeys must be a list of label keys");
  }
  intIn("spread.maxSkew", c.spread.maxSkew, 1, 1_000);
  intIn("interPodAffinity.hardPodAffinityWeight", c.interPodAffinity.hardPodAffinityWeight, 0, 100);
  problems.push(...addedAffinityProblems(c.nodeAffinity.addedAffinity, "nodeAffinity.addedAffinity"));
  numIn("assume.ttlMs", c.assume.ttlMs, 0, Number.MAX_SAFE_INTEGER);
  return problems;
}

/** Merges a partial config over the defaults and validates it; throws SchedulerConfigError listing every problem. */
export function resolveSchedulerConfig(input: SchedulerConfigInput = {}): SchedulerConfig {
  const d = DEFAULT_SCHEDULER_CONFIG;
  const config: SchedulerConfig = {
    weights: { ...d.weights, ...input.weights },
    scoringStrategy: input.scoringStrategy ?? d.scoringStrategy,
    resources: input.resources ?? d.resources,
    live: { ...d.live, ...input.live },
    liveLoad: { ...d.liveLoad, ...input.liveLoad },
    spread: { ...d.spread, ...input.spread },
    interPodAffinity: { ...d.interPodAffinity, ...input.interPodAffinity },
    nodeAffinity: { ...d.nodeAffinity, ...input.nodeAffinity },
    assume: { ...d.assume, ...input.assume },
  };
  const problems = validateSchedulerConfig(config);
  if (problems.length > 0) throw new SchedulerConfigError(problems);
  return config;
}
