// kube-scheduler's nominator for the pending-pod path: which of our pending pods a preemption nominated
// to which node. A nomination is known here at once, before the nominatedNodeName patch comes back through
// the informer (the victims may be gone sooner); a pod's own status.nominatedNodeName (set before a
// restart, or by another replica) counts too. core.nominated is the view every decision reads (place.ts).
import type { SchedulingCore } from "./core.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions } from "./kube.ts";

export interface Nominator {
  /** The informer's copy of pending pod `key` (also a pod recreated under its name). */
  track(key: string, pod: PodObject): void;
  /**
   * A preemption nominated `key` to `node`. Lower-priority pods nominated to that node may no longer fit
   * there: their nomination is dropped (cleared on the API too); returns their keys, to be tried again.
   */
  nominated(key: string, node: string, priority: number): string[];
  /** Preemption found that no node would do: the pod's nomination is stale. */
  cleared(key: string): void;
  /** The pod is no longer pending (bound, deleted, not ours). */
  forget(key: string): void;
}

export function createNominator(
  core: SchedulingCore,
  kube: KubeActions,
  /** Our pending pods as last seen, shared with pod-scheduler.ts. */
  ours: Map<string, PodObject>,
): Nominator {
  const nominations = new Map<string, string>();

  const sync = (key: string): void => {
    const pod = ours.get(key);
    const node = nominations.get(key) ?? pod?.status?.nominatedNodeName;
    if (pod === undefined || !node) core.nominated.delete(key);
    else if (pod.status?.nominatedNodeName === node) core.nominated.set(key, pod);
    else core.nominated.set(key, { ...pod, status: { ...pod.status, nominatedNodeName: node } });
  };

  /** Until the clearing patch comes back, the informer copy still names the node: forget that too. */
  const dropOwn = (key: string): void => {
    nominations.delete(key);
    const seen = ours.get(key);
    if (seen?.status?.nominatedNodeName)
      ours.set(key, { ...seen, status: { ...seen.status, nominatedNodeName: undefined } });
    sync(key);
  };

  return {
    track(key, pod) {
      // A pod recreated under the same name is a new pod: our nomination was for the old one.
      if (ours.get(key)?.metadata?.uid !== pod.metadata?.uid) nominations.delete(key);
      ours.set(key, pod);
      sync(key);
    },
    nominated(key, node, priority) {
      nominations.set(key, node);
      sync(key);
      const retry: string[] = [];
      for (const [other, pod] of [...core.nominated]) {
        if (other === key || pod.status?.nominatedNodeName !== node || (pod.spec?.priority ?? 0) >= priority)
          continue;
        const seen = ours.get(other);
        if (seen?.status?.nominatedNodeName) {
          const ref = {
            namespace: seen.metadata?.namespace ?? "default",
            name: seen.metadata?.name ?? "",
            uid: seen.metadata?.uid ?? "",
          };
          kube
            .nominate?.(ref, "")
            ?.catch((err: unknown) =>
              core.warnLimited("nominate", { err, pod: other }, "cannot clear nominatedNodeName"),
            );
        }
        dropOwn(other);
        retry.push(other);
      }
      return retry;
    },
    cleared: dropOwn,
    forget(key) {
      nominations.delete(key);
      core.nominated.delete(key);
    },
  };
}
