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
  /** PodTopologySpread leaves out terminating pods (deletionTimestamp set); InterPodAffinity counts them. */
  readonly skipTerminating: boolean;
  /** counts[node] = pods on the node matching every term. */
  readonly counts: Int32Array;
}

/**
 * Term groups, indexed so that finding the groups whose selector may match a pod costs a lookup per pod
 * label, not a match per group: a group whose selector has an `In` requirement is filed under that
 * requirement's key=value pairs (a pod without one of them cannot match); the others are scanned.
 */
export interface TermGroups {
  readonly all: Map<string, TermGroup>;
  readonly byLabel: Map<string, TermGroup[]>;
  readonly scan: Set<TermGroup>;
}

export interface AffinityIndex {
  /** Existing pods' required anti-affinity terms (Filter). */
  readonly antiRequired: TermGroups;
  /** Existing pods' required affinity, preferred affinity and preferred anti-affinity terms (Score). */
  readonly scoring: TermGroups;
  readonly selectors: Map<string, SelectorCounts>;
}

const createGroups = (): TermGroups => ({ all: new Map(), byLabel: new Map(), scan: new Set() });

export const createAffinityIndex = (): AffinityIndex => ({
  antiRequired: createGroups(),
  scoring: createGroups(),
  selectors: new Map(),
});

const labelKey = (key: string, value: string): string => `${key}\u0000${value}`;

function fileGroup(groups: TermGroups, group: TermGroup, add: boolean): void {
  const t = group.term;
  if (t.matchesNothing) return;
  const first = t.requirements.find((r) => r.op === "In");
  if (first === undefined) {
    if (add) groups.scan.add(group);
    else groups.scan.delete(group);
    return;
  }
  for (const v of first.values) {
    const k = labelKey(first.key, v);
    const list = groups.byLabel.get(k) ?? [];
    if (add) list.push(group);
    else list.splice(list.indexOf(group), 1);
    if (list.length === 0) groups.byLabel.delete(k);
    else groups.byLabel.set(k, list);
  }
}

/** Calls `visit` for every group whose term may select `pod` (the caller still checks termMatches). */
export function candidateGroups(
  groups: TermGroups,
  labels: Readonly<Record<string, string>>,
  visit: (group: TermGroup) => void,
): void {
  for (const group of groups.scan) visit(group);
  if (groups.byLabel.size === 0) return;
  for (const key in labels) {
    const list = groups.byLabel.get(labelKey(key, labels[key] as string));
    if (list !== undefined) for (const group of list) visit(group);
  }
}

// As spread-index.ts: bounds memory when every pod brings new terms; the oldest entry is rebuilt on reuse.
const MAX_SELECTORS = 256;

const groupKey = (kind: number, t: CompiledAffinityTerm): string =>
  `${kind}\u0004${t.weight}\u0004${t.topologyKey}\u0004${t.selectorSignature}`;

function moveGroup(
  groups: TermGroups,
  kind: number,
  term: CompiledAffinityTerm,
  node: number,
  delta: 1 | -1,
): void {
  const key = groupKey(kind, term);
  let group = groups.all.get(key);
  if (group === undefined) {
    if (delta < 0) return;
    group = { term, kind, nodes: new Map() };
    groups.all.set(key, group);
    fileGroup(groups, group, true);
  }
  const next = (group.nodes.get(node) ?? 0) + delta;
  if (next > 0) group.nodes.set(node, next);
  else {
    group.nodes.delete(node);
    if (group.nodes.size === 0) {
      groups.all.delete(key);
      fileGroup(groups, group, false);
    }
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
  for (const s of index.selectors.values()) {
    if (s.skipTerminating && pod.terminating) continue;
    if (matchesAllTerms(s.terms, pod)) s.counts[node] = (s.counts[node] as number) + delta;
  }
}

/**
 * Per-node counts of existing pods matching every one of `terms` (namespaces and selectors); with
 * `skipTerminating`, pods being deleted are left out (PodTopologySpread's countPodsMatchSelector).
 */
export function matchingCounts(
  snapshot: Snapshot,
  terms: readonly CompiledAffinityTerm[],
  skipTerminating = false,
): Int32Array {
  const selectors = snapshot.affinityIndex.selectors;
  const key = `${skipTerminating ? "live" : "all"}\u0006${terms
    .map((t) => t.selectorSignature)
    .sort()
    .join("\u0005")}`;
  const cached = selectors.get(key);
  if (cached !== undefined) return cached.counts;
  const nodes = snapshot.nodes;
  const counts = new Int32Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const pods = (nodes[i] as NodeInfo).pods;
    let n = 0;
    for (let p = 0; p < pods.length; p++) {
      const pod = pods[p] as PodInfo;
      if (!(skipTerminating && pod.terminating) && matchesAllTerms(terms, pod)) n++;
    }
    counts[i] = n;
  }
  if (selectors.size >= MAX_SELECTORS) {
    const oldest = selectors.keys().next().value;
    if (oldest !== undefined) selectors.delete(oldest);
  }
  selectors.set(key, { terms, skipTerminating, counts });
  return counts;
}
