// The `scheduling:` config section as the scheduling service's settings: every value comes from the
// resolved config, none is defaulted here.
import type { SchedulingSettings } from "../../coordinator/placement/settings.ts";
import { addedAffinityProblems } from "../../coordinator/scheduler/added-affinity.ts";
import { scoredResourceProblem } from "../../coordinator/scheduler/config.ts";
import { parseQuantity, toMilli, toUnits } from "../../coordinator/scheduler/index.ts";
import { ConfigError } from "./load.ts";
import type { Config } from "./schema.ts";

/** The engine's own checks of the scheduling keys the schema only shapes (it is also the agent's schema). */
function engineProblems(s: Config["scheduling"]): string[] {
  const problems: string[] = [];
  for (const { name } of s.scoringResources) {
    const problem = scoredResourceProblem(name);
    if (problem !== undefined) problems.push(`scheduling.scoringResources: ${problem}`);
  }
  for (const problem of addedAffinityProblems(s.addedAffinity, "addedAffinity"))
    problems.push(`scheduling.${problem}`);
  return problems;
}

/** The scheduling service's settings, or false when scheduling is turned off; ConfigError when invalid. */
export function schedulingSettings(config: Config): SchedulingSettings | false {
  const s = config.scheduling;
  if (!s.enabled) return false;
  const problems = engineProblems(s);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    schedulerName: s.schedulerName,
    defaultNamespace: config.k3s.namespace,
    allowedNamespaces: s.allowedNamespaces,
    allowedRegistries: s.allowedRegistries,
    maxCpu: s.maxCpu,
    maxMemory: s.maxMemory,
    storePath: s.store,
    requestRetentionMs: s.requestRetention,
    backoffInitialMs: s.backoffInitial,
    backoffMaxMs: s.backoffMax,
    snapshotMaxAgeMs: s.snapshotMaxAge,
    decisionWindow: s.decisionWindow,
    decisionRetentionMs: s.decisionRetention,
    maxQueuedRequests: s.maxQueuedRequests,
    quota: {
      requestsPerMinute: s.quota.requestsPerMinute,
      cpuMillis: s.quota.cpu === undefined ? 0 : Number(toMilli(parseQuantity(s.quota.cpu))),
      memoryBytes: s.quota.memory === undefined ? 0 : Number(toUnits(parseQuantity(s.quota.memory))),
    },
    engine: {
      weights: s.weights,
      scoringStrategy: s.scoringStrategy,
      resources: s.scoringResources,
      interPodAffinity: { hardPodAffinityWeight: s.hardPodAffinityWeight },
      nodeAffinity: { addedAffinity: s.addedAffinity },
      live: {
        requireTelemetry: s.requireTelemetry,
        cpuPressurePercent: s.pressure.cpuPercent,
        memoryPressurePercent: s.pressure.memoryPercent,
        diskPressurePercent: s.pressure.diskPercent,
      },
    },
  };
}
