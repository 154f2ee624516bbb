// The two plugin shapes of the engine, after kube-scheduler's Filter and PreScore/Score/NormalizeScore
// extension points. Plugins are plain objects, so a caller can inject its own (createScheduler).
import type { SchedulerConfig } from "./config.ts";
import type { CompiledPod } from "./pod.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";

export interface PluginContext {
  readonly snapshot: Snapshot;
  readonly pod: CompiledPod;
  readonly config: SchedulerConfig;
  readonly now: number;
}

/** null when the node passes; otherwise the reason(s), in kube-scheduler's words where it has them. */
export type FilterResult = string | readonly string[] | null;

/** Called by a filter for each node it rejects (index into snapshot.nodes). */
export type Reject = (index: number, reasons: string | readonly string[]) => void;

// Both plugin kinds work on all nodes in one call, with the per-node loop written inside each plugin:
// one call site per plugin stays monomorphic and V8 inlines the per-node check. A shared loop calling
// plugins through one call site was the main cost at 5,000 nodes.
export interface FilterPlugin {
  /** Reported as Decision.rejections[].filter. */
  readonly name: string;
  /** One node: null when it passes, otherwise the reason(s). */
  check(node: NodeInfo, ctx: PluginContext): FilterResult;
  /** candidates[0..count) are node indexes; keeps the passing ones in order in place and returns how many. */
  filterAll(candidates: Int32Array, count: number, ctx: PluginContext, reject: Reject): number;
}

/** Wraps a per-node check as a FilterPlugin (for injected plugins; the defaults inline their loops). */
export function filterPlugin(
  name: string,
  check: (node: NodeInfo, ctx: PluginContext) => FilterResult,
): FilterPlugin {
  return {
    name,
    check,
    filterAll(candidates, count, ctx, reject) {
      const nodes = ctx.snapshot.nodes;
      let kept = 0;
      for (let k = 0; k < count; k++) {
        const i = candidates[k] as number;
        const r = check(nodes[i] as NodeInfo, ctx);
        if (r === null) candidates[kept++] = i;
        else reject(i, r);
      }
      return kept;
    },
  };
}

/** Drives a per-node raw scorer over the feasible nodes (how the default plugins implement scoreAll). */
export function scoreEach<S>(
  state: S | undefined,
  rawAt: (state: S, i: number) => number,
  feasible: Int32Array,
  count: number,
  out: Float64Array,
): boolean {
  if (state === undefined) return false;
  for (let k = 0; k < count; k++) out[k] = rawAt(state, feasible[k] as number);
  return true;
}

export interface ScorePlugin {
  /** Reported as Decision.scores[].plugin. */
  readonly name: string;
  /** A name that depends on the config (least- vs most-allocated); defaults to `name`. */
  displayName?(config: SchedulerConfig): string;
  weight(config: SchedulerConfig): number;
  /**
   * PreScore + Score: writes the raw score of node feasible[k] to out[k] for k < count. Returns false
   * to skip the plugin for this pod (kube-scheduler's PreScore Skip: it then adds nothing).
   */
  scoreAll(feasible: Int32Array, count: number, out: Float64Array, ctx: PluginContext): boolean;
  /** NormalizeScore, in place, over out[0..count). */
  normalize?(scores: Float64Array, count: number): void;
}

export const MAX_NODE_SCORE = 100;
