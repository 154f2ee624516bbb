// Taint/toleration matching as k8s.io/api/core/v1 Toleration.ToleratesTaint and
// component-helpers FindMatchingUntoleratedTaint define it.
import type { Taint, Toleration } from "./k8s-types.ts";

/**
 * Empty effect matches every effect; empty key (with Exists) matches every key; operator "" means
 * Equal. Lt/Gt compare numerically only behind an alpha feature gate that is off by default, so here,
 * as in a default cluster, they tolerate nothing.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect.length > 0 && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key.length > 0 && t.key !== taint.key) return false;
  switch (t.operator ?? "") {
    case "":
    case "Equal":
      return (t.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerate(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint (in node order) no toleration tolerates, or undefined. */
export function findUntoleratedTaint<T extends Taint>(
  taints: readonly T[],
  tolerations: readonly Toleration[],
): T | undefined {
  for (const taint of taints) if (!tolerationsTolerate(tolerations, taint)) return taint;
  return undefined;
}

/** TaintToleration Filter's reason, e.g. "node(s) had untolerated taint {edge: true}". */
export const untoleratedTaintReason = (taint: Taint): string =>
  `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`;
