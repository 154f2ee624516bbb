// SelectVictimsOnNode (kube-scheduler defaultpreemption): take every pod of strictly lower priority off
// the node; if the preemptor still does not fit, the node is no candidate. Otherwise put the would-be
// victims back one at a time, most important first — those whose eviction would violate a
// PodDisruptionBudget before the others — keeping each that still lets the preemptor fit. What could not
// be put back are the victims. The snapshot is changed while this runs (the same add/remove the assume
// cache uses, so every filter sees the node without the victims) and restored, pod order included,
// before it returns.
import { addPodToNode, type PodInfo, removePodFromNode } from "../node-info.ts";
import type { NodeInfo, Snapshot } from "../snapshot.ts";
import { type CompiledPdb, splitByPdbViolation } from "./pdb.ts";
import { byImportance } from "./priority.ts";

/** kube-scheduler's status message for a node with no lower-priority pod. */
export const NO_VICTIMS_REASON = "No preemption victims found for incoming pod";

export type VictimsOnNode =
  | {
      readonly ok: true;
      /** Most important first. */
      readonly victims: readonly PodInfo[];
      /** Victims whose eviction violates a PodDisruptionBudget. */
      readonly pdbViolations: number;
    }
  | { readonly ok: false; readonly reasons: readonly string[] };

/** The preemptor's filters on one node: null when it fits, else the reasons. */
export type FitsOnNode = (node: NodeInfo) => readonly string[] | null;

export function selectVictimsOnNode(
  snapshot: Snapshot,
  node: NodeInfo,
  priority: number,
  fits: FitsOnNode,
  pdbs: readonly CompiledPdb[],
  now: number,
): VictimsOnNode {
  const potential = node.pods.filter((p) => p.priority < priority);
  if (potential.length === 0) return { ok: false, reasons: [NO_VICTIMS_REASON] };
  const pods = node.pods.slice();
  const assumed = node.assumed.slice();
  try {
    for (const p of potential) removePodFromNode(snapshot, p.key);
    const failed = fits(node);
    if (failed !== null) return { ok: false, reasons: failed };
    const order = byImportance(now);
    const { violating, nonViolating } = splitByPdbViolation(potential.slice().sort(order), pdbs);
    const victims: PodInfo[] = [];
    const reprieve = (p: PodInfo): boolean => {
      addPodToNode(snapshot, node, p);
      if (fits(node) === null) return true;
      removePodFromNode(snapshot, p.key);
      victims.push(p);
      return false;
    };
    let pdbViolations = 0;
    for (const p of violating) if (!reprieve(p)) pdbViolations++;
    for (const p of nonViolating) reprieve(p);
    if (violating.length > 0 && nonViolating.length > 0) victims.sort(order);
    return { ok: true, victims, pdbViolations };
  } finally {
    for (const p of potential) if (!snapshot.podNode.has(p.key)) addPodToNode(snapshot, node, p);
    node.pods.splice(0, node.pods.length, ...pods);
    node.assumed.splice(0, node.assumed.length, ...assumed);
  }
}
