// Pod importance as kube-scheduler orders it (pkg/scheduler/util MoreImportantPod, GetPodStartTime):
// higher spec.priority first, then the pod that started earlier. A pod the kubelet has not started yet
// has no start time and reads as `now`, so it ranks after every started pod of its priority.
import type { PodInfo } from "../node-info.ts";

/** GetPodStartTime: status.startTime, else `now`. */
export const startTimeOf = (pod: PodInfo, now: number): number => pod.startTime ?? now;

/** MoreImportantPod as a sort comparator: negative when `a` is more important than `b`. */
export const byImportance =
  (now: number) =>
  (a: PodInfo, b: PodInfo): number =>
    a.priority !== b.priority ? b.priority - a.priority : startTimeOf(a, now) - startTimeOf(b, now);
