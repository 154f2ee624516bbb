// Live CPU load, scored like Trimaran's TargetLoadPacking (kubernetes-sigs/scheduler-plugins,
// pkg/trimaran/targetloadpacking): predicted utilisation = measured node CPU + this pod's predicted
// CPU + pods placed since the sample, over the node's CPU capacity. Up to the target the score climbs
// from target to 100 (pack towards the target); past it the score falls to 0 at 100 % (avoid busy nodes).
import {
  ASSUMED_PODS,
  CPU_PERCENT,
  HUNDRED_OVER_CAPACITY,
  LIVE,
  LIVE_STATE,
  NO_TELEMETRY,
} from "../columns.ts";
import type { SchedulerConfig } from "../config.ts";
import type { Pod } from "../k8s-types.ts";
import type { PluginContext, ScorePlugin } from "../plugins.ts";
import { parseQuantity, toMilli } from "../quantity.ts";
import { type NodeInfo, telemetryAge } from "../snapshot.ts";

type LoadArgs = SchedulerConfig["liveLoad"];

const cpuMilli = (list: Readonly<Record<string, string>> | undefined): number | undefined => {
  const v = list?.cpu;
  return v === undefined ? undefined : Number(toMilli(parseQuantity(v)));
};

/** Trimaran PredictUtilisation summed over the regular containers, plus CPU overhead. */
export function predictCpuMilli(pod: Pod, args: LoadArgs): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) {
    const limit = cpuMilli(c.resources?.limits);
    const request = cpuMilli(c.resources?.requests);
    if (limit !== undefined) total += limit;
    else if (request !== undefined) total += Math.round(request * args.requestsMultiplier);
    else total += args.defaultRequestsMilliCores;
  }
  return total + (cpuMilli(pod.spec?.overhead) ?? 0);
}

/** The TargetLoadPacking score for a predicted utilisation in percent (0-100, rounded like math.Round). */
export function targetLoadScore(predictedPercent: number, targetPercent: number): number {
  if (predictedPercent > targetPercent) {
    if (predictedPercent > 100) return 0;
    return Math.round((targetPercent * (100 - predictedPercent)) / (100 - targetPercent));
  }
  return Math.round(((100 - targetPercent) * predictedPercent) / targetPercent + targetPercent);
}

export interface LoadInputs {
  readonly now: number;
  readonly takenAt: number | undefined;
  readonly podPredictedCpu: number;
  readonly args: LoadArgs;
}

/**
 * Raw live-load score of one node. Pods we assumed after (or one interval before) the telemetry sample
 * are not in the measured CPU yet, so their predicted CPU is added, as Trimaran does for pods it bound
 * within the metrics window.
 */
export function liveLoadScore(node: NodeInfo, inputs: LoadInputs): number {
  const live = node.live;
  if (live === undefined) return inputs.args.neutralScore;
  const sampledAt = inputs.now - telemetryAge(live, inputs.takenAt, inputs.now);
  let missing = 0;
  for (const pod of node.assumed) {
    if ((pod.assumedAt ?? 0) > sampledAt - live.intervalMs) missing += pod.predictedCpu;
  }
  const capacity = node.capacityCpu;
  // Trimaran's 100·(util%/100·capacity + pod + missing)/capacity, evaluated as util% + (pod + missing)·(100/capacity)
  // so the per-node kernel below can use a precomputed 100/capacity and compute the very same value.
  const predicted =
    capacity === 0 ? 0 : live.cpuPercent + (inputs.podPredictedCpu + missing) * (100 / capacity);
  return targetLoadScore(predicted, inputs.args.targetUtilizationPercent);
}

export interface LiveLoadState {
  readonly inputs: LoadInputs;
  readonly live: Float64Array;
  readonly nodes: readonly NodeInfo[];
}

export const prepareLiveLoad = ({ pod, snapshot, config, now }: PluginContext): LiveLoadState => ({
  inputs: { now, takenAt: snapshot.takenAt, podPredictedCpu: pod.predictedCpu, args: config.liveLoad },
  live: snapshot.columns.live,
  nodes: snapshot.nodes,
});

export const liveLoadPlugin: ScorePlugin = {
  name: "live-load",
  weight: (c) => c.weights.liveLoad,
  scoreAll(feasible, count, out, ctx) {
    const s = prepareLiveLoad(ctx);
    const { live, nodes, inputs } = s;
    const { neutralScore, targetUtilizationPercent } = inputs.args;
    const podCpu = inputs.podPredictedCpu;
    for (let k = 0; k < count; k++) {
      const i = feasible[k] as number;
      const l = i * LIVE;
      if (live[l + LIVE_STATE] === NO_TELEMETRY) out[k] = neutralScore;
      else if (live[l + ASSUMED_PODS] !== 0) out[k] = liveLoadScore(nodes[i] as NodeInfo, inputs);
      else {
        const h = live[l + HUNDRED_OVER_CAPACITY] as number;
        out[k] = targetLoadScore(
          h === 0 ? 0 : (live[l + CPU_PERCENT] as number) + podCpu * h,
          targetUtilizationPercent,
        );
      }
    }
    return true;
  },
};
