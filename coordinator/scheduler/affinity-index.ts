// InterPodAffinity's view of the pods already placed, kept current as pods are added and removed (the
// role of kube-scheduler's PodsWithAffinity / PodsWithRequiredAntiAffinity lists), so a decision never
// walks every pod of the fleet:
//
// - groups: the existing pods' own terms, grouped when identical (one app's replicas share one group),
//   each with the count of owning pods per node. A decision matches the incoming pod once per group.
// - selectors: per-node counts of pods matching the incoming pod's terms, built the first time a term
//   (or an AND of terms) is seen and then updated incrementally, like spread-index.ts.
import type { PodInfo } from "./node-info.ts";
import { type CompiledAffinityTerm, matchesAllTerms } from "./pod-affinity.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";

export const REQUIRED_AFFINITY = 0;
export const PREFERRED_AFFINITY = 1;
export const PREFERRED_ANTI_AFFINITY = 2;

export interface TermGroup {
  readonly term: CompiledAffinityTerm;
  /** For scoring groups: REQUIRED_AFFINITY, PREFERRED_AFFINITY or PREFERRED_ANTI_AFFINITY. */
  readonly kind: number;
  /** node index → pods on that node owning this term. */
  readonly nodes: Map<number, number>;
}

export interface SelectorCounts {
  readonly terms: readonly CompiledAffinityTerm[];
  /** counts[node] = pods on the node matching every term. */
  readonly counts: Int32Array;
}

export interface AffinityIndex {
  /** Existing pods' required anti-affinity terms (Filter). */
  readonly antiRequired: Map<string, TermGroup>;
  /** Existing pods' required affinity, preferred affinity and preferred anti-affinity terms (Score). */
  readonly scoring: Map<string, TermGroup>;
  readonly selectors: Map<string, SelectorCounts>;
}

export const createAffinityIndex = (): AffinityIndex => ({
  antiRequired: new Map(),
  scoring: new Map(),
  selectors: new Map(),
});

// As spread-index.ts: bounds memory when every pod brings new terms; the oldest entry is rebuilt on reuse.
const MAX_SELECTORS = 256;

const groupKey = (kind: number, t: CompiledAffinityTerm): string =>
  `${kind}\u0004${t.weight}\u0004${t.topologyKey}\u0004${t.selectorSignature}`;

function moveGroup(
  map: Map<string, TermGroup>,
  kind: number,
  term: CompiledAffinityTerm,
  node: number,
  delta: 1 | -1,
): void {
  const key = groupKey(kind, term);
  let group = map.get(key);
  if (group === undefined) {
    if (delta < 0) return;
    group = { term, kind, nodes: new Map() };
    map.set(key, group);
  }
  const next = (group.nodes.get(node) ?? 0) + delta;
  if (next > 0) group.nodes.set(node, next);
  else {
    group.nodes.delete(node);
    if (group.nodes.size === 0) map.delete(key);
  }
}

export function updateAffinityIndex(snapshot: Snapshot, node: number, pod: PodInfo, delta: 1 | -1): void {
  const index = snapshot.affinityIndex;
  const a = pod.affinity;
  if (a !== undefined) {
    for (const t of a.requiredAntiAffinity) moveGroup(index.antiRequired, 0, t, node, delta);
    for (const t of a.requiredAffinity) moveGroup(index.scoring, REQUIRED_AFFINITY, t, node, delta);
    for (const t of a.preferredAffinity) moveGroup(index.scoring, PREFERRED_AFFINITY, t, node, delta);
    for (const t of a.preferredAntiAffinity)
      moveGroup(index.scoring, PREFERRED_ANTI_AFFINITY, t, node, delta);
  }
  for (const s of index.selectors.values()) if (matchesAllTerms(s.terms, pod)) s.counts[node] += delta;
}

/** Per-node counts of existing pods matching every one of `terms` (namespaces and selectors). */
export function matchingCounts(snapshot: Snapshot, terms: readonly CompiledAffinityTerm[]): Int32Array {
  const selectors = snapshot.affinityIndex.selectors;
  const key = terms
    .map((t) => t.selectorSignature)
    .sort()
    .join("\u0005");
  const cached = selectors.get(key);
  if (cached !== undefined) return cached.counts;
  const nodes = snapshot.nodes;
  const counts = new Int32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const pods = (nodes[i] as NodeInfo).pods;
    let n = 0;
    for (let p = 0; p < pods.length; p++) if (matchesAllTerms(terms, pods[p] as PodInfo)) n++;
    counts[i] = n;
  }
  if (selectors.size >= MAX_SELECTORS) {
    const oldest = selectors.keys().next().value;
    if (oldest !== undefined) selectors.delete(oldest);
  }
  selectors.set(key, { terms, counts });
  return counts;
}
