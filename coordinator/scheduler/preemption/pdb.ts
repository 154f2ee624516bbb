// PodDisruptionBudgets as kube-scheduler's preemption reads them (defaultpreemption
// filterPodsWithPDBViolation): a PDB counts against a victim in its namespace whose labels its selector
// matches, unless the victim is already in status.disruptedPods (the API server has processed its
// eviction). Each matching victim uses up one of status.disruptionsAllowed; a victim that takes the
// budget below zero violates it. Violations are minimised, never forbidden. A nil or empty selector
// matches nothing here (kube-scheduler's selector.Empty() check), and an invalid one is skipped.
import type { LabelSelector } from "../k8s-types.ts";
import type { PodInfo } from "../node-info.ts";
import { type CompiledAffinityTerm, compileTerm, termMatches } from "../pod-affinity.ts";

/** policy/v1 PodDisruptionBudget: the fields preemption reads. */
export interface PodDisruptionBudget {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly selector?: LabelSelector | null };
  readonly status?: {
    readonly disruptionsAllowed?: number;
    /** Pod name → time the eviction was processed. */
    readonly disruptedPods?: Readonly<Record<string, unknown>> | null;
  };
}

export interface CompiledPdb {
  readonly name: string;
  readonly term: CompiledAffinityTerm;
  readonly allowed: number;
  readonly disrupted: ReadonlySet<string>;
}

const isEmptySelector = (s: LabelSelector | null | undefined): boolean =>
  s === null ||
  s === undefined ||
  (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

/** The PDBs that can match a pod: invalid and empty selectors dropped. */
export function compilePdbs(pdbs: readonly PodDisruptionBudget[]): CompiledPdb[] {
  const out: CompiledPdb[] = [];
  for (const pdb of pdbs) {
    const selector = pdb.spec?.selector;
    if (isEmptySelector(selector)) continue;
    const namespace = pdb.metadata?.namespace ?? "default";
    let term: CompiledAffinityTerm;
    try {
      term = compileTerm(
        { labelSelector: selector ?? null, namespaces: [namespace], topologyKey: "" },
        1,
        { namespace, labels: {} },
        `poddisruptionbudget ${namespace}/${pdb.metadata?.name ?? ""} spec.selector`,
      );
    } catch {
      continue; // kube-scheduler: an invalid selector matches no pod
    }
    out.push({
      name: `${namespace}/${pdb.metadata?.name ?? ""}`,
      term,
      allowed: pdb.status?.disruptionsAllowed ?? 0,
      disrupted: new Set(Object.keys(pdb.status?.disruptedPods ?? {})),
    });
  }
  return out;
}

/** filterPodsWithPDBViolation: splits `pods` (order kept) into those whose eviction would violate a PDB and the rest. */
export function splitByPdbViolation(
  pods: readonly PodInfo[],
  pdbs: readonly CompiledPdb[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.allowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pod of pods) {
    let violated = false;
    // A pod with no labels matches no PDB.
    if (Object.keys(pod.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (!termMatches(pdb.term, pod) || pdb.disrupted.has(pod.name)) return;
        const left = (allowed[i] as number) - 1;
        allowed[i] = left;
        if (left < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pod);
  }
  return { violating, nonViolating };
}
