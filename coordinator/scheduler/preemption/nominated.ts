// kube-scheduler's addNominatedPods (RunFilterPluginsWithNominatedPods): while a preemptor waits for its
// victims to go, the room it freed is held for it. Pods nominated to a node with a priority at least the
// incoming pod's count as if they ran there, for the length of one decision. The snapshot is restored
// before this returns.
import type { Pod } from "../k8s-types.ts";
import { addPodToNode, createPodInfo, podPriority, removePodFromNode } from "../node-info.ts";
import type { Snapshot } from "../snapshot.ts";

/** The pods among `waiting` (not `pod` itself) that hold room against `pod`: nominated, and at least as important. */
export function nominatedAgainst(pod: Pod, waiting: Iterable<Pod>): Pod[] {
  const priority = podPriority(pod);
  const self = pod.metadata?.uid;
  const out: Pod[] = [];
  for (const other of waiting) {
    if (other === pod || (self !== undefined && other.metadata?.uid === self)) continue;
    if (other.status?.nominatedNodeName && podPriority(other) >= priority) out.push(other);
  }
  return out;
}

/** Runs `decide` with `nominated` pods added to their nominated nodes, then takes them off again. */
export function withNominatedPods<T>(snapshot: Snapshot, nominated: readonly Pod[], decide: () => T): T {
  const added: string[] = [];
  try {
    for (const pod of nominated) {
      const node = snapshot.byName.get(pod.status?.nominatedNodeName ?? "");
      if (node === undefined) continue;
      const info = createPodInfo(pod);
      if (snapshot.podNode.has(info.key)) continue;
      addPodToNode(snapshot, node, info);
      added.push(info.key);
    }
    return decide();
  } finally {
    for (const key of added) removePodFromNode(snapshot, key);
  }
}
