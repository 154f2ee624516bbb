// kube-scheduler NodeAffinity Filter: the profile's added affinity (added-affinity.ts), then
// spec.nodeSelector (every label equal) and the pod's required node affinity (terms ORed, expressions
// ANDed; see selectors.ts) must all match.
import { addedAffinityOf } from "../added-affinity.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import { type ColumnTerm, matchColumnTerm } from "../selectors.ts";
import { bindTermToSnapshot, labelColumn } from "../snapshot.ts";

export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
/** A node outside the scheduler's added affinity (NodeAffinityArgs.addedAffinity). */
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** Reason for nodes outside the PreFilter's node-name set (schedule_one.go, absent nodes). */
export const ERR_REASON_PREFILTER_NODE_AFFINITY = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
/** PreFilter failure when every term pins disjoint node names. */
export const ERR_REASON_AFFINITY_CONFLICT = "pod affinity terms conflict";

export interface AffinityState {
  /** nodeSelector as (label id column, wanted id) pairs: one integer compare per node and label. */
  readonly selector: ReadonlyArray<{ readonly ids: Int32Array; readonly want: number }>;
  readonly terms: readonly ColumnTerm[] | undefined;
}

export function prepareAffinity({ pod, snapshot }: PluginContext): AffinityState | null {
  if (pod.nodeSelector.length === 0 && pod.requiredTerms === undefined) return null;
  return {
    selector: pod.nodeSelector.map(([key, value]) => {
      const column = labelColumn(snapshot, key);
      return { ids: column.ids, want: column.valueIds.get(value) ?? -2 };
    }),
    terms: pod.requiredTerms?.map((t) => bindTermToSnapshot(snapshot, t)),
  };
}

export function affinityAt(s: AffinityState, i: number): string | null {
  for (const { ids, want } of s.selector) if (ids[i] !== want) return ERR_REASON_NODE_AFFINITY;
  const terms = s.terms;
  if (terms === undefined) return null;
  for (const term of terms) if (matchColumnTerm(term, i)) return null;
  return ERR_REASON_NODE_AFFINITY;
}

interface NodeAffinityFilterState {
  /** The profile's addedAffinity required terms (ORed), bound to the snapshot; undefined without. */
  readonly added: readonly ColumnTerm[] | undefined;
  readonly pod: AffinityState | null;
}

/** The pod's own node selector and required affinity, after the scheduler's added affinity (node_affinity.go Filter). */
export const nodeAffinity = defineFilter<NodeAffinityFilterState>({
  name: "NodeAffinity",
  prepare(ctx) {
    const required = addedAffinityOf(ctx.config).required;
    const pod = prepareAffinity(ctx);
    if (required === undefined && pod === null) return null;
    return { added: required?.map((t) => bindTermToSnapshot(ctx.snapshot, t)), pod };
  },
  at(s, i) {
    const added = s.added;
    if (added !== undefined) {
      let match = false;
      for (const term of added) if (matchColumnTerm(term, i)) match = true;
      if (!match) return ERR_REASON_ENFORCED;
    }
    return s.pod === null ? null : affinityAt(s.pod, i);
  },
});
