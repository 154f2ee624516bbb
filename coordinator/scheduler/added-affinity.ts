// NodeAffinityArgs.addedAffinity: node affinity the scheduler adds to every pod it schedules, as a
// kube-scheduler profile does. Its required terms filter before the pod's own node affinity (a node
// outside them is "node(s) didn't match scheduler-enforced node affinity"); its preferred terms add to
// the pod's preferred terms in the NodeAffinity score. It is not part of the pod: PodTopologySpread's
// nodeAffinityPolicy and the NodeAffinity PreFilter's node names read the pod's own affinity only.
import type { SchedulerConfig } from "./config.ts";
import type { NodeAffinity, NodeSelectorTerm } from "./k8s-types.ts";
import { type CompiledTerm, compileTerm, isEmptyTerm } from "./selectors.ts";

export interface CompiledAddedAffinity {
  /** ORed; undefined without required terms. */
  readonly required: readonly CompiledTerm[] | undefined;
  readonly preferred: ReadonlyArray<{ readonly term: CompiledTerm; readonly weight: number }>;
}

const NONE: CompiledAddedAffinity = Object.freeze({ required: undefined, preferred: Object.freeze([]) });
const compiled = new WeakMap<SchedulerConfig, CompiledAddedAffinity>();

/** The config's added affinity, compiled once per config object. */
export function addedAffinityOf(config: SchedulerConfig): CompiledAddedAffinity {
  const added = config.nodeAffinity.addedAffinity;
  if (added === undefined) return NONE;
  let c = compiled.get(config);
  if (c === undefined) {
    const required = added.requiredDuringSchedulingIgnoredDuringExecution;
    c = {
      // An empty term selects nothing (nodeaffinity.NewNodeSelector), so it is left out of the OR.
      required: required?.nodeSelectorTerms.filter((t) => !isEmptyTerm(t)).map(compileTerm),
      preferred: (added.preferredDuringSchedulingIgnoredDuringExecution ?? [])
        .filter((p) => !isEmptyTerm(p.preference))
        .map((p) => ({ term: compileTerm(p.preference), weight: p.weight })),
    };
    compiled.set(config, c);
  }
  return c;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function termProblems(term: unknown, path: string): string[] {
  if (!isObject(term)) return [`${path} must be a node selector term`];
  const problems: string[] = [];
  for (const key of ["matchExpressions", "matchFields"]) {
    const list = term[key];
    if (list !== undefined && !Array.isArray(list)) problems.push(`${path}.${key} must be a list`);
  }
  if (problems.length === 0 && !compileTerm(term as NodeSelectorTerm).valid)
    problems.push(`${path} has an invalid requirement (operator, values or label key)`);
  return problems;
}

/** What ValidateNodeAffinityArgs would refuse, each problem naming its path under `path`. */
export function addedAffinityProblems(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!isObject(value)) return [`${path} must be a node affinity object`];
  const a = value as NodeAffinity & Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(a)) {
    if (
      key !== "requiredDuringSchedulingIgnoredDuringExecution" &&
      key !== "preferredDuringSchedulingIgnoredDuringExecution"
    )
      problems.push(`${path}.${key} is not a node affinity field`);
  }
  const required: unknown = a.requiredDuringSchedulingIgnoredDuringExecution;
  if (required !== undefined) {
    const terms = isObject(required) ? required.nodeSelectorTerms : undefined;
    const at = `${path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    if (!Array.isArray(terms) || terms.length === 0) problems.push(`${at} must list at least one term`);
    else for (const [i, t] of terms.entries()) problems.push(...termProblems(t, `${at}[${i}]`));
  }
  const preferred: unknown = a.preferredDuringSchedulingIgnoredDuringExecution;
  if (preferred !== undefined) {
    const at = `${path}.preferredDuringSchedulingIgnoredDuringExecution`;
    if (!Array.isArray(preferred)) problems.push(`${at} must be a list`);
    else
      for (const [i, p] of (preferred as unknown[]).entries()) {
        const w = isObject(p) ? p.weight : undefined;
        if (typeof w !== "number" || !Number.isInteger(w) || w < 1 || w > 100)
          problems.push(`${at}[${i}].weight must be an integer from 1 to 100, got ${JSON.stringify(w)}`);
        problems.push(...termProblems(isObject(p) ? p.preference : undefined, `${at}[${i}].preference`));
      }
  }
  return problems;
}
