// Pod affinity terms compiled once per pod (framework.AffinityTerm): the label selector with
// matchLabelKeys / mismatchLabelKeys merged in (what kube-apiserver does when the pod is created), the
// namespaces it applies to, and the topology key. A compiled term answers "does this pod match?" with a
// few map reads, and its signature groups identical terms of many pods (one app's replicas).
import { PodSpecError } from "./errors.ts";
import type { Pod, PodAffinity, PodAffinityTerm } from "./k8s-types.ts";
import { isQualifiedName, isValidLabelValue } from "./selectors.ts";

type SelectorOp = "In" | "NotIn" | "Exists" | "DoesNotExist";

interface Requirement {
  readonly key: string;
  readonly op: SelectorOp;
  readonly values: ReadonlySet<string>;
}

export interface CompiledAffinityTerm {
  /** null: every namespace (an empty namespaceSelector). */
  readonly namespaces: ReadonlySet<string> | null;
  readonly requirements: readonly Requirement[];
  /** A nil labelSelector selects no pod. */
  readonly matchesNothing: boolean;
  readonly topologyKey: string;
  /** Preferred terms' weight; 1 for required terms. */
  readonly weight: number;
  /** Namespaces + selector, canonical: equal for terms that select the same pods. */
  readonly selectorSignature: string;
}

export interface PodAffinityInfo {
  readonly requiredAffinity: readonly CompiledAffinityTerm[];
  readonly requiredAntiAffinity: readonly CompiledAffinityTerm[];
  readonly preferredAffinity: readonly CompiledAffinityTerm[];
  readonly preferredAntiAffinity: readonly CompiledAffinityTerm[];
}

/** What a term needs to know about a candidate pod. */
export interface PodLabels {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

const OPS: ReadonlySet<string> = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

function requirement(key: string, op: string, values: readonly string[], where: string): Requirement {
  if (!OPS.has(op))
    throw new PodSpecError(`${where}: ${JSON.stringify(op)} is not a valid label selector operator`);
  if (!isQualifiedName(key)) throw new PodSpecError(`${where}: invalid label key ${JSON.stringify(key)}`);
  if ((op === "In" || op === "NotIn") && values.length === 0)
    throw new PodSpecError(`${where}: values must be non-empty for ${op}`);
  if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
    throw new PodSpecError(`${where}: values must be empty for ${op}`);
  for (const v of values)
    if (!isValidLabelValue(v)) throw new PodSpecError(`${where}: invalid label value ${JSON.stringify(v)}`);
  return { key, op: op as SelectorOp, values: new Set(values) };
}

export function compileTerm(
  term: PodAffinityTerm,
  weight: number,
  owner: PodLabels,
  where: string,
): CompiledAffinityTerm {
  const sel = term.labelSelector;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push(requirement(k, "In", [v], where));
  (sel?.matchExpressions ?? []).forEach((e, i) => {
    reqs.push(
      requirement(e.key, e.operator, e.values ?? [], `${where}.labelSelector.matchExpressions[${i}]`),
    );
  });
  // KEP-3633: the apiserver merges these into labelSelector at creation; merging again is idempotent.
  if (sel !== null && sel !== undefined) {
    for (const k of term.matchLabelKeys ?? []) {
      const v = owner.labels[k];
      if (v !== undefined) reqs.push(requirement(k, "In", [v], `${where}.matchLabelKeys`));
    }
    for (const k of term.mismatchLabelKeys ?? []) {
      const v = owner.labels[k];
      if (v !== undefined) reqs.push(requirement(k, "NotIn", [v], `${where}.mismatchLabelKeys`));
    }
  }
  let namespaces: Set<string> | null;
  const listed = term.namespaces ?? [];
  if (term.namespaceSelector === null || term.namespaceSelector === undefined)
    namespaces = new Set(listed.length === 0 ? [owner.namespace] : listed);
  // An empty selector is every namespace. A non-empty one needs Namespace labels the engine does not
  // watch: an incoming pod with one is refused (unsupported.ts); on an existing pod it is read as every
  // namespace, so that pod's anti-affinity is never broken (at worst it over-constrains).
  else namespaces = null;
  const reqSig = reqs
    .map((r) => `${r.key}\u0001${r.op}\u0001${[...r.values].sort().join("\u0002")}`)
    .sort()
    .join("\u0000");
  const nsSig = namespaces === null ? "*" : [...namespaces].sort().join(",");
  return {
    namespaces,
    requirements: reqs,
    matchesNothing: sel === null || sel === undefined,
    topologyKey: term.topologyKey,
    weight,
    selectorSignature: `${nsSig}\u0003${sel == null ? "!" : reqSig}`,
  };
}

/** schedutil.PodMatchesTermsNamespaceAndSelector. */
export function termMatches(term: CompiledAffinityTerm, pod: PodLabels): boolean {
  if (term.matchesNothing) return false;
  if (term.namespaces !== null && !term.namespaces.has(pod.namespace)) return false;
  const labels = pod.labels;
  for (const r of term.requirements) {
    const v = labels[r.key];
    switch (r.op) {
      case "In":
        if (v === undefined || !r.values.has(v)) return false;
        break;
      case "NotIn":
        if (v !== undefined && r.values.has(v)) return false;
        break;
      case "Exists":
        if (v === undefined) return false;
        break;
      default:
        if (v !== undefined) return false;
    }
  }
  return true;
}

export const matchesAllTerms = (terms: readonly CompiledAffinityTerm[], pod: PodLabels): boolean => {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod)) return false;
  return true;
};

function compileList(
  a: PodAffinity | undefined,
  owner: PodLabels,
  path: string,
): [CompiledAffinityTerm[], CompiledAffinityTerm[]] {
  const required = (a?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t, i) =>
    compileTerm(t, 1, owner, `${path}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`),
  );
  const preferred = (a?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
    .filter((w) => w.weight !== 0)
    .map((w, i) =>
      compileTerm(
        w.podAffinityTerm,
        w.weight,
        owner,
        `${path}.preferredDuringSchedulingIgnoredDuringExecution[${i}].podAffinityTerm`,
      ),
    );
  return [required, preferred];
}

/** undefined for a pod without pod (anti-)affinity. Throws PodSpecError for an invalid selector. */
export function compilePodAffinity(pod: Pod): PodAffinityInfo | undefined {
  const affinity = pod.spec?.affinity;
  if (affinity?.podAffinity == null && affinity?.podAntiAffinity == null) return undefined;
  const owner: PodLabels = {
    namespace: pod.metadata?.namespace ?? "default",
    labels: pod.metadata?.labels ?? {},
  };
  const [requiredAffinity, preferredAffinity] = compileList(
    affinity.podAffinity ?? undefined,
    owner,
    "spec.affinity.podAffinity",
  );
  const [requiredAntiAffinity, preferredAntiAffinity] = compileList(
    affinity.podAntiAffinity ?? undefined,
    owner,
    "spec.affinity.podAntiAffinity",
  );
  if (
    requiredAffinity.length +
      preferredAffinity.length +
      requiredAntiAffinity.length +
      preferredAntiAffinity.length ===
    0
  )
    return undefined;
  return { requiredAffinity, requiredAntiAffinity, preferredAffinity, preferredAntiAffinity };
}
