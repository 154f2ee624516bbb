// Public surface of DefaultPreemption (pure): candidate selection for an unschedulable pod.

export { nominatedAgainst, withNominatedPods } from "./nominated.ts";
export { compilePdbs, type PodDisruptionBudget, splitByPdbViolation } from "./pdb.ts";
export { type Candidate, pickOneNodeForPreemption } from "./pick.ts";
export {
  candidatesWanted,
  MIN_CANDIDATE_NODES_ABSOLUTE,
  MIN_CANDIDATE_NODES_PERCENTAGE,
  NEVER_MESSAGE,
  NOT_HELPFUL_REASON,
  type Preemption,
  type PreemptionInput,
  preempt,
  TERMINATING_MESSAGE,
  type Victim,
} from "./preempt.ts";
export { byImportance } from "./priority.ts";
export { NO_VICTIMS_REASON, selectVictimsOnNode, type VictimsOnNode } from "./victims.ts";
