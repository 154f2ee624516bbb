// kube-scheduler InterPodAffinity Filter (filtering.go). PreFilter counts, per topology domain (a value
// of the term's topologyKey), the existing pods matching each required term of the incoming pod, and
// the existing pods whose required anti-affinity matches the incoming pod; Filter then rejects a node,
// in this order, when
//   1. a required affinity term has no matching pod in the node's domain (or the node lacks the key),
//      unless no pod anywhere matches and the pod matches its own terms (the first of a series);
//   2. a required anti-affinity term has a matching pod in the node's domain;
//   3. an existing pod's required anti-affinity term matches the incoming pod in the node's domain.
import { candidateGroups, matchingCounts } from "../affinity-index.ts";
import type { LabelColumn } from "../columns.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import { matchesAllTerms, termMatches } from "../pod-affinity.ts";
import { labelColumn, type Snapshot } from "../snapshot.ts";

export const ERR_REASON_AFFINITY_RULES = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** One term's matching-pod count per domain: domains[value id of node i's topology label]. */
interface DomainCounts {
  readonly ids: Int32Array;
  readonly domains: Int32Array;
}

export interface InterPodState {
  /** Per required affinity term; null without any. */
  readonly affinity: readonly DomainCounts[] | null;
  /** Some domain has a matching pod (kube-scheduler: len(affinityCounts) > 0). */
  readonly affinityAny: boolean;
  /** The pod matches all its own required affinity terms. */
  readonly selfMatch: boolean;
  readonly anti: readonly DomainCounts[];
  /** Per topology key: domains blocked by existing pods' anti-affinity. */
  readonly existing: ReadonlyArray<{ readonly ids: Int32Array; readonly blocked: Uint8Array }>;
}

export function domainCounts(snapshot: Snapshot, counts: Int32Array, key: string): DomainCounts {
  const column: LabelColumn = labelColumn(snapshot, key);
  const ids = column.ids;
  const domains = new Int32Array(column.valueIds.size);
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (c === 0) continue;
    const id = ids[i] as number;
    if (id >= 0) domains[id] = (domains[id] as number) + c;
  }
  return { ids, domains };
}

/** null when the plugin has nothing to check for this pod (kube-scheduler's PreFilter Skip). */
export function prepareInterPod({ pod, snapshot }: PluginContext): InterPodState | null {
  const existing = new Map<string, { ids: Int32Array; blocked: Uint8Array }>();
  candidateGroups(snapshot.affinityIndex.antiRequired, pod.labels, (group) => {
    const term = group.term;
    if (!termMatches(term, pod)) return;
    let entry = existing.get(term.topologyKey);
    if (entry === undefined) {
      const column = labelColumn(snapshot, term.topologyKey);
      entry = { ids: column.ids, blocked: new Uint8Array(column.valueIds.size) };
      existing.set(term.topologyKey, entry);
    }
    for (const node of group.nodes.keys()) {
      const id = entry.ids[node] as number;
      if (id >= 0) entry.blocked[id] = 1;
    }
  });
  const a = pod.affinity;
  const required = a?.requiredAffinity ?? [];
  const requiredAnti = a?.requiredAntiAffinity ?? [];
  if (existing.size === 0 && required.length === 0 && requiredAnti.length === 0) return null;
  let affinity: DomainCounts[] | null = null;
  let affinityAny = false;
  if (required.length > 0) {
    // An existing pod counts only when it matches every required affinity term (podMatchesAllAffinityTerms).
    const counts = matchingCounts(snapshot, required);
    affinity = required.map((t) => domainCounts(snapshot, counts, t.topologyKey));
    affinityAny = affinity.some((d) => d.domains.some((c) => c > 0));
  }
  return {
    affinity,
    affinityAny,
    selfMatch: matchesAllTerms(required, pod),
    anti: requiredAnti.map((t) => domainCounts(snapshot, matchingCounts(snapshot, [t]), t.topologyKey)),
    existing: [...existing.values()],
  };
}

export function interPodAt(s: InterPodState, i: number): string | null {
  const affinity = s.affinity;
  if (affinity !== null) {
    let podsExist = true;
    for (const d of affinity) {
      const id = d.ids[i] as number;
      if (id < 0) return ERR_REASON_AFFINITY_RULES; // all topology labels must exist on the node
      if ((d.domains[id] as number) <= 0) podsExist = false;
    }
    if (!podsExist && (s.affinityAny || !s.selfMatch)) return ERR_REASON_AFFINITY_RULES;
  }
  for (const d of s.anti) {
    const id = d.ids[i] as number;
    if (id >= 0 && (d.domains[id] as number) > 0) return ERR_REASON_ANTI_AFFINITY_RULES;
  }
  for (const e of s.existing) {
    const id = e.ids[i] as number;
    if (id >= 0 && e.blocked[id] === 1) return ERR_REASON_EXISTING_ANTI_AFFINITY;
  }
  return null;
}

export const interPodAffinity = defineFilter({
  name: "InterPodAffinity",
  prepare: prepareInterPod,
  at: interPodAt,
});
