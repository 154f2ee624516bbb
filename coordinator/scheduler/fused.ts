// The filters fused into one pass: every candidate runs the filters in order (kube-scheduler's, then
// ours; the first failing one reports) while its packed records are in cache, instead of one pass per
// filter over 5,000 nodes. The per-node checks are the plugins' own definitions (filters/*.ts, prepare +
// at), so the result is the same as running the plugins one by one, which engine.property.test.ts checks
// on random fleets. Scoring stays per plugin: measured, six small loops beat one loop calling six kernels.
//
// The pass is a table-driven loop over the filter list, written out once per list as a function with
// one call site per filter (see `compile`). A plain loop over an array of `at` functions has one call
// site for all of them, which V8 cannot inline: measured 20 % slower per decision at 5,000 nodes
// (bench/scheduler-results.md).
import type { DefinedFilter, FilterResult, PluginContext } from "./plugins.ts";

type Reasons = Array<string | readonly string[] | undefined>;
type At = (state: unknown, i: number) => FilterResult;
type Pass = (
  states: readonly unknown[],
  candidates: Int32Array,
  count: number,
  rejectedBy: Int16Array,
  reasons: Reasons,
) => number;

/**
 * One pass over `filters`, with filter f's check bound as the constant `atF`. The source is made from the
 * number of filters only (no name or value from any input), so each list gets the same shape of code.
 */
function compile(ats: readonly At[]): Pass {
  const checks = ats.map(
    (_, f) => `
      if (s${f} !== null) {
        r = at${f}(s${f}, i);
        if (r !== null) {
          rejectedBy[i] = ${f};
          reasons[i] = r;
          continue;
        }
      }`,
  );
  const source = `
    return function fusedPass(states, candidates, count, rejectedBy, reasons) {
      ${ats.map((_, f) => `const s${f} = states[${f}];`).join("\n")}
      let kept = 0;
      for (let k = 0; k < count; k++) {
        const i = candidates[k];
        let r;
        ${checks.join("")}
        candidates[kept++] = i;
      }
      return kept;
    };`;
  const factory = new Function(...ats.map((_, f) => `at${f}`), source) as (...ats: At[]) => Pass;
  return factory(...ats);
}

const passes = new WeakMap<readonly DefinedFilter<unknown>[], Pass>();

/**
 * Keeps the feasible candidates at the front of `candidates` and returns how many. A rejected node gets
 * the index of its filter (in `filters` order) in `rejectedBy` and its reason in `reasons`. A filter
 * whose prepare returns null (PreFilter Skip) passes every node.
 */
export function filterFused(
  filters: readonly DefinedFilter<unknown>[],
  candidates: Int32Array,
  count: number,
  ctx: PluginContext,
  rejectedBy: Int16Array,
  reasons: Reasons,
): number {
  let pass = passes.get(filters);
  if (pass === undefined) {
    pass = compile(filters.map((f) => f.at));
    passes.set(filters, pass);
  }
  const states = filters.map((f) => f.prepare(ctx));
  return pass(states, candidates, count, rejectedBy, reasons);
}
