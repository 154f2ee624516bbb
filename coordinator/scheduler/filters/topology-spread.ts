// kube-scheduler PodTopologySpread Filter (podtopologyspread/filtering.go) for the pod's DoNotSchedule
// constraints. PreFilter counts, per domain (value of the constraint's topologyKey), the pods of the
// pod's namespace matching the constraint's selector, over the nodes that carry every constraint's key
// and pass the constraint's node inclusion policies (nodeAffinityPolicy, nodeTaintsPolicy). Filter
// rejects a node that lacks a key, or where
//   matching pods in its domain + (1 if the pod matches its own selector) − global minimum > maxSkew,
// the global minimum being 0 while fewer than minDomains domains exist.
import { matchingCounts } from "../affinity-index.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import { labelColumn } from "../snapshot.ts";
import type { SpreadConstraint } from "../topology-spread.ts";
import { affinityAt, prepareAffinity } from "./node-affinity.ts";
import { prepareTaints, taintAt } from "./taint-toleration.ts";

export const ERR_REASON_SPREAD_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_SPREAD_LABEL =
  "node(s) didn't match pod topology spread constraints (missing required label)";

const MAX_INT32 = 2_147_483_647;

/** Which nodes a constraint counts: every key present, and its inclusion policies. */
export interface Inclusion {
  readonly keys: readonly Int32Array[];
  readonly affinity: ReturnType<typeof prepareAffinity>;
  readonly taints: ReturnType<typeof prepareTaints>;
}

export function prepareInclusion(ctx: PluginContext, constraints: readonly SpreadConstraint[]): Inclusion {
  return {
    keys: constraints.map((c) => labelColumn(ctx.snapshot, c.topologyKey).ids),
    affinity: prepareAffinity(ctx),
    taints: prepareTaints(ctx),
  };
}

export const hasAllKeys = (inc: Inclusion, i: number): boolean => {
  for (const ids of inc.keys) if ((ids[i] as number) < 0) return false;
  return true;
};

/** matchNodeInclusionPolicies. */
export const included = (inc: Inclusion, c: SpreadConstraint, i: number): boolean =>
  (!c.honorNodeAffinity || inc.affinity === null || affinityAt(inc.affinity, i) === null) &&
  (!c.honorNodeTaints || taintAt(inc.taints, i) === null);

interface ConstraintState {
  readonly c: SpreadConstraint;
  readonly ids: Int32Array;
  /** Matching pods per domain; -1 for a domain with no eligible node. */
  readonly domains: Int32Array;
  readonly minMatch: number;
}

export type SpreadFilterState = readonly ConstraintState[];

/** null when the pod has no DoNotSchedule constraint (PreFilter Skip). */
export function prepareSpreadFilter(ctx: PluginContext): SpreadFilterState | null {
  const hard = ctx.pod.spreadConstraints.filter((c) => c.hard);
  if (hard.length === 0) return null;
  const { snapshot } = ctx;
  const inc = prepareInclusion(ctx, hard);
  const n = snapshot.nodes.length;
  return hard.map((c, k) => {
    const ids = inc.keys[k] as Int32Array;
    const counts = matchingCounts(snapshot, [c.term], true);
    const domains = new Int32Array(labelColumn(snapshot, c.topologyKey).valueIds.size).fill(-1);
    for (let i = 0; i < n; i++) {
      if (!hasAllKeys(inc, i) || !included(inc, c, i)) continue;
      const id = ids[i] as number;
      domains[id] = Math.max(0, domains[id] as number) + (counts[i] as number);
    }
    let present = 0;
    let min = MAX_INT32;
    for (const d of domains) {
      if (d < 0) continue;
      present++;
      if (d < min) min = d;
    }
    return { c, ids, domains, minMatch: present < c.minDomains ? 0 : min };
  });
}

export function spreadFilterAt(s: SpreadFilterState, i: number): string | null {
  for (const { ids, c, domains, minMatch } of s) {
    const id = ids[i] as number;
    if (id < 0) return ERR_REASON_SPREAD_LABEL;
    const match = Math.max(0, domains[id] as number);
    if (match + (c.selfMatch ? 1 : 0) - minMatch > c.maxSkew) return ERR_REASON_SPREAD_CONSTRAINTS;
  }
  return null;
}

export const podTopologySpread = defineFilter({
  name: "PodTopologySpread",
  prepare: prepareSpreadFilter,
  at: spreadFilterAt,
});
