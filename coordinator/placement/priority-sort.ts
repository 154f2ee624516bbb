// kube-scheduler's PrioritySort queue order, for the pods due now: higher spec.priority first, then the
// earlier creationTimestamp (kube-scheduler: the earlier queue timestamp), then the key. Pure.
import { podPriority, timeMs } from "../scheduler/node-info.ts";
import type { PodObject } from "./inputs.ts";

/** The key among `due` to decide first; undefined when `due` is empty. Keys without a pod come first (they are dropped at once). */
export function dueFirst(due: ReadonlySet<string>, pods: ReadonlyMap<string, PodObject>): string | undefined {
  let best: string | undefined;
  let bestPod: PodObject | undefined;
  for (const key of due) {
    const pod = pods.get(key);
    if (pod === undefined) return key;
    if (best === undefined || before(pod, key, bestPod as PodObject, best)) {
      best = key;
      bestPod = pod;
    }
  }
  return best;
}

function before(a: PodObject, aKey: string, b: PodObject, bKey: string): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  const ta = timeMs(a.metadata?.creationTimestamp) ?? Number.POSITIVE_INFINITY;
  const tb = timeMs(b.metadata?.creationTimestamp) ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb;
  return aKey < bKey;
}
