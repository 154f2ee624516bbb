// The pod's topologySpreadConstraints compiled once per decision (podtopologyspread/common.go
// filterTopologySpreadConstraints): the label selector with matchLabelKeys merged in, counted over
// pods of the pod's own namespace, and the node inclusion policies. Invalid values are errors, as the
// API server's validation would make them.
import { PodSpecError } from "./errors.ts";
import type { Pod } from "./k8s-types.ts";
import { type CompiledAffinityTerm, compileTerm, termMatches } from "./pod-affinity.ts";

export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  /** DoNotSchedule: a filter; ScheduleAnyway: a score. */
  readonly hard: boolean;
  readonly minDomains: number;
  /** nodeAffinityPolicy Honor (the default): only nodes matching the pod's node affinity/selector count. */
  readonly honorNodeAffinity: boolean;
  /** nodeTaintsPolicy Honor: only nodes whose NoSchedule/NoExecute taints the pod tolerates count. */
  readonly honorNodeTaints: boolean;
  /** The selector, as a term over the pod's namespace (shares the per-node count index with affinity). */
  readonly term: CompiledAffinityTerm;
  /** The incoming pod matches its own selector (counts itself into the skew). */
  readonly selfMatch: boolean;
}

const policy = (value: string | null | undefined, fallback: boolean, where: string): boolean => {
  if (value === undefined || value === null || value === "") return fallback;
  if (value === "Honor") return true;
  if (value === "Ignore") return false;
  throw new PodSpecError(`${where}: ${JSON.stringify(value)} must be Honor or Ignore`);
};

export function compileSpreadConstraints(pod: Pod): readonly SpreadConstraint[] {
  const list = pod.spec?.topologySpreadConstraints ?? [];
  if (list.length === 0) return [];
  const namespace = pod.metadata?.namespace ?? "default";
  const owner = { namespace, labels: pod.metadata?.labels ?? {} };
  return list.map((c, i) => {
    const where = `spec.topologySpreadConstraints[${i}]`;
    if (!Number.isInteger(c.maxSkew) || c.maxSkew < 1)
      throw new PodSpecError(`${where}.maxSkew must be an integer greater than 0`);
    if (c.whenUnsatisfiable !== "DoNotSchedule" && c.whenUnsatisfiable !== "ScheduleAnyway")
      throw new PodSpecError(`${where}.whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway`);
    const minDomains = c.minDomains ?? 1;
    if (!Number.isInteger(minDomains) || minDomains < 1)
      throw new PodSpecError(`${where}.minDomains must be an integer greater than 0`);
    const term = compileTerm(
      {
        labelSelector: c.labelSelector ?? null,
        namespaces: [namespace],
        topologyKey: c.topologyKey,
        ...(c.matchLabelKeys ? { matchLabelKeys: c.matchLabelKeys } : {}),
      },
      1,
      owner,
      where,
    );
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      hard: c.whenUnsatisfiable === "DoNotSchedule",
      minDomains,
      honorNodeAffinity: policy(c.nodeAffinityPolicy, true, `${where}.nodeAffinityPolicy`),
      honorNodeTaints: policy(c.nodeTaintsPolicy, false, `${where}.nodeTaintsPolicy`),
      term,
      selfMatch: termMatches(term, owner),
    };
  });
}
