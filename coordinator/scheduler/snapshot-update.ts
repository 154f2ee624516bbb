// Changing a built snapshot in place, one event at a time, like kube-scheduler's cache applying informer
// events: a pod added, changed or deleted moves only its node's aggregates and indexes (node-info.ts);
// a node whose scheduling-relevant fields changed gets a new NodeInfo at the same index, its records
// re-packed and its pods carried over. Only that node's rows are written, so the result equals a
// snapshot built from scratch on the same input (snapshot-update.property.test.ts checks it). Adding or
// removing a node changes every index after it: that takes a full build. Pure, no I/O.
import { packNode } from "./columns.ts";
import { SnapshotError } from "./errors.ts";
import type { Node, Pod } from "./k8s-types.ts";
import { addPodToNode, boundPodInfo, type PodInfo, podKey, removePodFromNode } from "./node-info.ts";
import { buildNodeInfo, type NodeInfo, type Snapshot } from "./snapshot.ts";

const TERMINAL_PHASES: ReadonlySet<string> = new Set(["Succeeded", "Failed"]);

/** Where a pod counts: its node while bound and not finished, else nowhere (undefined). */
export const podPlacement = (pod: Pod): string | undefined =>
  TERMINAL_PHASES.has(pod.status?.phase ?? "") ? undefined : pod.spec?.nodeName || undefined;

/**
 * Applies one pod as the cluster now shows it (`deleted`: it is gone): its old copy leaves its node, and
 * the new one joins the node it is bound to, if that node is in the snapshot. Returns the node names
 * whose rows changed.
 */
export function applyPod(snapshot: Snapshot, pod: Pod, deleted: boolean): string[] {
  const key = podKey(pod);
  if (key === undefined) throw new SnapshotError("pod has neither metadata.uid nor metadata.name");
  const changed: string[] = [];
  const before = snapshot.podNode.get(key);
  if (before !== undefined) {
    removePodFromNode(snapshot, key);
    changed.push(before.name);
  }
  const at = deleted ? undefined : podPlacement(pod);
  const node = at === undefined ? undefined : snapshot.byName.get(at);
  if (node !== undefined) {
    addPodToNode(snapshot, node, boundPodInfo(pod));
    if (node !== before) changed.push(node.name);
  }
  return changed;
}

/** The fields buildNodeInfo reads, as one comparable string: an update that changes none of them is a no-op. */
export function nodeSignature(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return JSON.stringify([
    node.metadata.labels ?? {},
    node.spec?.unschedulable === true,
    node.spec?.taints ?? [],
    node.status?.allocatable ?? null,
    node.status?.capacity ?? null,
    ready ?? null,
  ]);
}

/**
 * Replaces a node's NodeInfo by one built from `node` (same name, same index), keeping its live signals
 * and its pods (assumed ones included). Throws SnapshotError for a node the snapshot does not have, or
 * QuantityError for an invalid quantity (the snapshot is then unchanged).
 */
export function replaceNode(snapshot: Snapshot, node: Node): NodeInfo {
  const name = node.metadata?.name;
  const old = snapshot.byName.get(name);
  if (old === undefined) throw new SnapshotError(`node ${JSON.stringify(name)} is not in the snapshot`);
  const next = buildNodeInfo({ node, live: old.live }, old.index);
  const pods: PodInfo[] = [...old.pods];
  for (const pod of pods) removePodFromNode(snapshot, pod.key);
  (snapshot.nodes as NodeInfo[])[old.index] = next;
  (snapshot.byName as Map<string, NodeInfo>).set(name, next);
  for (const pod of pods) addPodToNode(snapshot, next, pod);
  packNode(snapshot.columns, next);
  // Label columns are per key over all nodes; the keys whose value changed here are built again when next asked for.
  for (const key of snapshot.labelColumns.keys())
    if (old.labels.get(key) !== next.labels.get(key)) snapshot.labelColumns.delete(key);
  return next;
}
