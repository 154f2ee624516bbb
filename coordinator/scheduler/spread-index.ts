// Per-node counts of pods matching a spread selector, built the first time a selector is seen and
// kept current as pods are added or removed, so spreading costs one array read per node.
import type { PodInfo } from "./node-info.ts";
import type { NodeInfo, Snapshot } from "./snapshot.ts";

export interface SpreadSelector {
  readonly namespace: string;
  readonly entries: ReadonlyArray<readonly [string, string]>;
  /** counts[nodeIndex] = matching pods on that node. */
  readonly counts: Int32Array;
}

// Bounds memory (4 bytes per node per selector: 10 MB at 5,000 nodes) when every pod brings a new app;
// the oldest selector is evicted and rebuilt if it comes back.
const MAX_SELECTORS = 512;

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

function register(snapshot: Snapshot, selector: SpreadSelector): void {
  const signature = spreadSignature(selector.namespace, selector.entries);
  if (!snapshot.spreadIndex.has(signature) && snapshot.spreadIndex.size >= MAX_SELECTORS) {
    const oldest = snapshot.spreadIndex.keys().next().value;
    if (oldest !== undefined) snapshot.spreadIndex.delete(oldest);
  }
  snapshot.spreadIndex.set(signature, selector);
}

// Most spread selectors are one app label (app=x). One pass over the fleet's pods counts every value of
// that key at once, so 50 apps cost one pass, not 50; a fleet with very many values of the key falls
// back to counting the one selector asked for.
const BULK_VALUES = 256;

function countOneKey(
  snapshot: Snapshot,
  namespace: string,
  key: string,
  value: string,
): Int32Array | undefined {
  const n = snapshot.nodes.length;
  const byNamespace = new Map<string, Map<string, Int32Array>>();
  let distinct = 0;
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const pods = (nodes[i] as NodeInfo).pods;
    for (let p = 0; p < pods.length; p++) {
      const pod = pods[p] as PodInfo;
      const v = pod.labels[key];
      if (v === undefined) continue;
      let values = byNamespace.get(pod.namespace);
      if (values === undefined) {
        values = new Map();
        byNamespace.set(pod.namespace, values);
      }
      let counts = values.get(v);
      if (counts === undefined) {
        if (++distinct > BULK_VALUES) return undefined;
        counts = new Int32Array(n);
        values.set(v, counts);
      }
      counts[i] = (counts[i] as number) + 1;
    }
  }
  for (const [ns, values] of byNamespace) {
    for (const [v, counts] of values) register(snapshot, { namespace: ns, entries: [[key, v]], counts });
  }
  // The selector asked for may match no pod yet (a new app): it is indexed with zero counts.
  const wanted = byNamespace.get(namespace)?.get(value);
  if (wanted !== undefined) return wanted;
  const counts = new Int32Array(n);
  register(snapshot, { namespace, entries: [[key, value]], counts });
  return counts;
}

export function spreadCounts(
  snapshot: Snapshot,
  namespace: string,
  entries: ReadonlyArray<readonly [string, string]>,
): Int32Array {
  const cached = snapshot.spreadIndex.get(spreadSignature(namespace, entries));
  if (cached !== undefined) return cached.counts;
  if (entries.length === 1) {
    const [key, value] = entries[0] as readonly [string, string];
    const bulk = countOneKey(snapshot, namespace, key, value);
    if (bulk !== undefined) return bulk;
  }
  const counts = new Int32Array(snapshot.nodes.length);
  // Indexed loops, no destructuring: this pass reads every pod of the fleet.
  const keys = entries.map((e) => e[0]);
  const values = entries.map((e) => e[1]);
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const pods = (nodes[i] as NodeInfo).pods;
    let n = 0;
    for (let p = 0; p < pods.length; p++) {
      const pod = pods[p] as PodInfo;
      if (pod.namespace !== namespace) continue;
      const labels = pod.labels;
      let j = 0;
      while (j < keys.length && labels[keys[j] as string] === values[j]) j++;
      if (j === keys.length) n++;
    }
    counts[i] = n;
  }
  register(snapshot, { namespace, entries, counts });
  return counts;
}

export function updateSpreadIndex(snapshot: Snapshot, nodeIndex: number, pod: PodInfo, delta: 1 | -1): void {
  for (const selector of snapshot.spreadIndex.values()) {
    if (podMatches(selector, pod))
      selector.counts[nodeIndex] = (selector.counts[nodeIndex] as number) + delta;
  }
}
