// Per-node counts of pods matching a spread selector, built the first time a selector is seen and
// kept current as pods are added or removed, so spreading costs one array read per node.
import type { PodInfo } from "./node-info.ts";
import type { Snapshot } from "./snapshot.ts";

export interface SpreadSelector {
  readonly namespace: string;
  readonly entries: ReadonlyArray<readonly [string, string]>;
  /** counts[nodeIndex] = matching pods on that node. */
  readonly counts: Int32Array;
}

// Bounds memory when every pod brings a new app; the oldest selector is rebuilt if it comes back.
const MAX_SELECTORS = 256;

export const spreadSignature = (
  namespace: string,
  entries: ReadonlyArray<readonly [string, string]>,
): string => `${namespace}\u0000${entries.map(([k, v]) => `${k}=${v}`).join("\u0000")}`;

/** Pods in the same namespace whose labels contain every selector entry (SelectorSpread's rule). */
export function podMatches(sel: Pick<SpreadSelector, "namespace" | "entries">, pod: PodInfo): boolean {
  if (pod.namespace !== sel.namespace) return false;
  for (const [k, v] of sel.entries) if (pod.labels[k] !== v) return false;
  return true;
}

export function spreadCounts(
  snapshot: Snapshot,
  namespace: string,
  entries: ReadonlyArray<readonly [string, string]>,
): Int32Array {
  const signature = spreadSignature(namespace, entries);
  const cached = snapshot.spreadIndex.get(signature);
  if (cached !== undefined) return cached.counts;
  const counts = new Int32Array(snapshot.nodes.length);
  const selector: SpreadSelector = { namespace, entries, counts };
  for (const node of snapshot.nodes) {
    let n = 0;
    for (const pod of node.pods) if (podMatches(selector, pod)) n++;
    counts[node.index] = n;
  }
  if (snapshot.spreadIndex.size >= MAX_SELECTORS) {
    const oldest = snapshot.spreadIndex.keys().next().value;
    if (oldest !== undefined) snapshot.spreadIndex.delete(oldest);
  }
  snapshot.spreadIndex.set(signature, selector);
  return counts;
}

export function updateSpreadIndex(snapshot: Snapshot, nodeIndex: number, pod: PodInfo, delta: 1 | -1): void {
  for (const selector of snapshot.spreadIndex.values()) {
    if (podMatches(selector, pod)) selector.counts[nodeIndex] += delta;
  }
}
