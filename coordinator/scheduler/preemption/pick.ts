// pickOneNodeForPreemption (kube-scheduler preemption.go): among candidate nodes, keep those with the best
// value of each rule in turn until one is left — fewest PodDisruptionBudget violations, lowest
// highest-victim priority, smallest sum of victim priorities (each shifted by 2^31 so negative
// priorities do not favour more victims), fewest victims, latest start time of the highest-priority
// victims — and then the first in the list (the order the nodes were examined in, from preempt.ts's offset).
import type { PodInfo } from "../node-info.ts";
import { startTimeOf } from "./priority.ts";

export interface Candidate {
  readonly node: string;
  /** Most important first; never empty. */
  readonly victims: readonly PodInfo[];
  readonly pdbViolations: number;
}

const SHIFT = 2 ** 31;

/** GetEarliestPodStartTime: the earliest start among the victims of the highest priority. */
function earliestOfHighest(victims: readonly PodInfo[], now: number): number {
  let max = Number.NEGATIVE_INFINITY;
  let earliest = Number.POSITIVE_INFINITY;
  for (const v of victims) {
    const t = startTimeOf(v, now);
    if (v.priority > max) {
      max = v.priority;
      earliest = t;
    } else if (v.priority === max && t < earliest) earliest = t;
  }
  return earliest;
}

/** Higher is better, in order of precedence. */
const RULES: ReadonlyArray<(c: Candidate, now: number) => number> = [
  (c) => -c.pdbViolations,
  (c) => -(c.victims[0]?.priority ?? 0),
  (c) => -c.victims.reduce((sum, v) => sum + v.priority + SHIFT, 0),
  (c) => -c.victims.length,
  (c, now) => earliestOfHighest(c.victims, now),
];

/** Index of the chosen candidate; -1 when there is none. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[], now: number): number {
  let remaining = candidates.map((_, i) => i);
  if (remaining.length === 0) return -1;
  for (const rule of RULES) {
    let best = Number.NEGATIVE_INFINITY;
    let kept: number[] = [];
    for (const i of remaining) {
      const score = rule(candidates[i] as Candidate, now);
      if (score > best) {
        best = score;
        kept = [];
      }
      if (score === best) kept.push(i);
    }
    if (kept.length === 1) return kept[0] as number;
    remaining = kept;
  }
  return remaining[0] as number;
}
