// kube-scheduler NodeAffinity Filter: spec.nodeSelector (every label equal) and the required node
// affinity (terms ORed, expressions ANDed; see selectors.ts) must both match.
import { defineFilter, type PluginContext } from "../plugins.ts";
import { type ColumnTerm, matchColumnTerm } from "../selectors.ts";
import { bindTermToSnapshot, labelColumn } from "../snapshot.ts";

export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
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

export const nodeAffinity = defineFilter({ name: "NodeAffinity", prepare: prepareAffinity, at: affinityAt });
