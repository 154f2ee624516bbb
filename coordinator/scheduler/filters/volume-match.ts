// The PersistentVolume checks kube-scheduler's volume binder makes per node (component-helpers
// storage/volume: CheckNodeAffinity, FindMatchingVolume, CheckAccessModes, CheckVolumeModeMismatches;
// v1helper.MatchTopologySelectorTerms for a class's allowedTopologies). Pure.
import type { LabelSelector, NodeSelectorTerm } from "../k8s-types.ts";
import { compareQuantities, parseQuantity, type Quantity } from "../quantity.ts";
import { type CompiledTerm, compileTerm, isEmptyTerm, matchTerm } from "../selectors.ts";
import {
  claimClass,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type TopologySelectorTerm,
  volumeClass,
} from "./volume-types.ts";

/** A PV's required node affinity, compiled; undefined when the PV has none (every node passes). */
export type VolumeAffinity = readonly CompiledTerm[] | undefined;

export function compileVolumeAffinity(pv: PersistentVolume): VolumeAffinity {
  const required = pv.spec?.nodeAffinity?.required;
  if (required === undefined || required === null) return undefined;
  // An empty term matches nothing (nodeaffinity.NewNodeSelector drops it).
  return (required.nodeSelectorTerms ?? [])
    .filter((t: NodeSelectorTerm) => !isEmptyTerm(t))
    .map((t) => compileTerm(t));
}

/**
 * volume.CheckNodeAffinity: the terms are matched against a Node carrying only the labels (no name), so
 * matchFields on metadata.name are not evaluated, as upstream.
 */
export function volumeAffinityMatches(
  affinity: VolumeAffinity,
  labels: ReadonlyMap<string, string>,
): boolean {
  if (affinity === undefined) return true;
  for (const term of affinity) if (matchTerm(term, labels, "")) return true;
  return false;
}

/** v1helper.MatchTopologySelectorTerms: no terms match every node; terms ORed, expressions ANDed. */
export function topologyMatches(
  terms: readonly TopologySelectorTerm[] | undefined,
  labels: ReadonlyMap<string, string>,
): boolean {
  if (terms === undefined || terms.length === 0) return true;
  return terms.some((term) =>
    (term.matchLabelExpressions ?? []).every((e) => {
      const value = labels.get(e.key);
      return value !== undefined && e.values.includes(value);
    }),
  );
}

const ZERO: Quantity = parseQuantity("0");

/** A storage quantity, 0 when absent or malformed (resource.Quantity's zero value). */
export function storageOf(list: Readonly<Record<string, string>> | undefined): Quantity {
  const raw = list?.storage;
  if (raw === undefined) return ZERO;
  try {
    return parseQuantity(String(raw));
  } catch {
    return ZERO;
  }
}

export const claimRequest = (claim: PersistentVolumeClaim): Quantity =>
  storageOf(claim.spec?.resources?.requests);

/** volume.IsVolumeBoundToClaim. */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (ref === undefined || ref === null) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** CheckAccessModes: every mode the claim asks for is one the volume offers. */
export const accessModesFit = (claim: PersistentVolumeClaim, pv: PersistentVolume): boolean =>
  (claim.spec?.accessModes ?? []).every((m) => (pv.spec?.accessModes ?? []).includes(m));

const modeOf = (mode: string | undefined): string => mode || "Filesystem";

// metav1.LabelSelectorAsSelector: matchLabels and matchExpressions ANDed; an invalid operator matches nothing.
function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export interface Candidate {
  readonly pv: PersistentVolume;
  readonly affinity: VolumeAffinity;
  readonly capacity: Quantity;
}

export const candidateOf = (pv: PersistentVolume): Candidate => ({
  pv,
  affinity: compileVolumeAffinity(pv),
  capacity: storageOf(pv.spec?.capacity),
});

/**
 * volume.FindMatchingVolume on the scheduler path (a node given, delayed binding): a volume pre-bound to
 * the claim wins (or, failing the node's affinity, nothing does); otherwise the smallest Available volume of
 * the claim's class that is large enough, of the same volume mode, not being deleted, matching the claim's
 * selector, the node and the access modes. `excluded` holds volumes already chosen for other claims.
 */
export function findMatchingVolume(
  claim: PersistentVolumeClaim,
  candidates: readonly Candidate[],
  labels: ReadonlyMap<string, string>,
  excluded: ReadonlySet<string>,
): PersistentVolume | undefined {
  const requested = claimRequest(claim);
  const requestedClass = claimClass(claim);
  const selector = claim.spec?.selector ?? undefined;
  let smallest: Candidate | undefined;
  for (const c of candidates) {
    const { pv } = c;
    const name = pv.metadata?.name ?? "";
    if (excluded.has(name)) continue;
    const ref = pv.spec?.claimRef;
    const boundToClaim = isVolumeBoundToClaim(pv, claim);
    if (ref !== undefined && ref !== null && !boundToClaim) continue;
    if (compareQuantities(c.capacity, requested) < 0) continue;
    if (modeOf(claim.spec?.volumeMode) !== modeOf(pv.spec?.volumeMode)) continue;
    if (pv.metadata?.deletionTimestamp) continue;
    const affinityOk = volumeAffinityMatches(c.affinity, labels);
    if (boundToClaim) return affinityOk ? pv : undefined;
    if (pv.status?.phase !== "Available") continue;
    if (selector && !selectorMatches(selector, pv.metadata?.labels ?? {})) continue;
    if (volumeClass(pv) !== requestedClass) continue;
    if (!affinityOk) continue;
    if (!accessModesFit(claim, pv)) continue;
    if (smallest === undefined || compareQuantities(smallest.capacity, c.capacity) > 0) smallest = c;
  }
  return smallest?.pv;
}
