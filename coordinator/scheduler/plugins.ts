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

// Both plugin kinds work on all nodes in one call. The engine's own filters are written once as a
// DefinedFilter (prepare once per decision, then one check per node on the snapshot's packed columns);
// defineFilter derives the per-node `check` and the `filterAll` loop from it, and fused.ts runs the
// default set from the same definitions in one pass.
export interface FilterPlugin {
  /** Reported as Decision.rejections[].filter. */
  readonly name: string;
  /** One node: null when it passes, otherwise the reason(s). */
  check(node: NodeInfo, ctx: PluginContext): FilterResult;
  /** candidates[0..count) are node indexes; keeps the passing ones in order in place and returns how many. */
  filterAll(candidates: Int32Array, count: number, ctx: PluginContext, reject: Reject): number;
}

/**
 * The one shape of a filter: `prepare` runs once per decision (kube-scheduler's PreFilter) and returns
 * the state `at` reads, or null when the plugin has nothing to check for this pod (PreFilter Skip:
 * every node passes); `at(state, i)` checks node i (index into snapshot.nodes).
 */
export interface FilterDefinition<S> {
  readonly name: string;
  prepare(ctx: PluginContext): S | null;
  at(state: S, i: number): FilterResult;
}

export interface DefinedFilter<S> extends FilterPlugin, FilterDefinition<S> {}

/** A FilterPlugin whose `check` and `filterAll` both run the definition's prepare and at. */
export function defineFilter<S>(def: FilterDefinition<S>): DefinedFilter<S> {
  const { name, prepare, at } = def;
  return {
    name,
    prepare,
    at,
    check(node, ctx) {
      const s = prepare(ctx);
      return s === null ? null : at(s, node.index);
    },
    filterAll(candidates, count, ctx, reject) {
      const s = prepare(ctx);
      if (s === null) return count;
      let kept = 0;
      for (let k = 0; k < count; k++) {
        const i = candidates[k] as number;
        const r = at(s, i);
        if (r === null) candidates[kept++] = i;
        else reject(i, r);
      }
      return kept;
    },
  };
}

/** Wraps a per-node check on NodeInfo objects as a FilterPlugin (for injected plugins). */
export function filterPlugin(
  name: string,
  check: (node: NodeInfo, ctx: PluginContext) => FilterResult,
): FilterPlugin {
  return defineFilter<PluginContext>({
    name,
    prepare: (ctx) => ctx,
    at: (ctx, i) => check(ctx.snapshot.nodes[i] as NodeInfo, ctx),
  });
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
