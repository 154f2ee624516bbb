// Convenience wiring for the coordinator: one config, one assume cache, injectable plugins.
// Each decision expires stale assumptions, schedules, and assumes the pod onto the chosen node.
import { type AssumeCache, createAssumeCache } from "./assume.ts";
import { resolveSchedulerConfig, type SchedulerConfig, type SchedulerConfigInput } from "./config.ts";
import { DEFAULT_PLUGINS, type Decision, type Plugins, schedule } from "./engine.ts";
import type { Pod } from "./k8s-types.ts";
import type { Snapshot } from "./snapshot.ts";

export interface Scheduler {
  readonly config: SchedulerConfig;
  readonly assumed: AssumeCache;
  readonly plugins: Plugins;
  /** Decide for `pod`; on success the pod is assumed onto its node (when it has a name or uid). */
  decide(snapshot: Snapshot, pod: Pod, now: number): Decision;
  /** Decide for `pod` with the same plugins, assuming nothing (dry runs, advisory answers, before creating). */
  evaluate(snapshot: Snapshot, pod: Pod, now: number): Decision;
}

export function createScheduler(
  options: { config?: SchedulerConfigInput; plugins?: Plugins; assumeCache?: AssumeCache } = {},
): Scheduler {
  const config = resolveSchedulerConfig(options.config);
  const plugins = options.plugins ?? DEFAULT_PLUGINS;
  const assumed = options.assumeCache ?? createAssumeCache(config);
  const evaluate = (snapshot: Snapshot, pod: Pod, now: number): Decision => {
    assumed.expire(snapshot, now);
    return schedule(snapshot, pod, config, now, plugins);
  };
  return {
    config,
    assumed,
    plugins,
    evaluate,
    decide(snapshot, pod, now) {
      const decision = evaluate(snapshot, pod, now);
      const named = pod.metadata?.uid !== undefined || pod.metadata?.name !== undefined;
      if (decision.status === "scheduled" && decision.node !== undefined && named) {
        assumed.assume(snapshot, pod, decision.node, now);
      }
      return decision;
    },
  };
}
