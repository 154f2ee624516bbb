// DefaultPreemption's PostFilter (kube-scheduler pkg/scheduler/framework/preemption Evaluator.Preempt),
// pure: run after the engine found a pod unschedulable, it says which node to nominate and which
// lower-priority pods to evict there, or why preemption cannot help. Acting on it (nominating, deleting,
// Events) is coordinator/placement/preempt.ts.
//
//  1. Eligibility: never for preemptionPolicy Never; not while the pod's nominated node still has a
//     terminating lower-priority pod (the earlier preemption is still under way).
//  2. Nodes: only those rejected for a reason removing pods can resolve; a node rejected by
//     NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, our live-telemetry filters, an
//     unsupported field, or a missing topology label / unmatched pod affinity is "not helpful".
//  3. On each, from `offset` on, SelectVictimsOnNode (victims.ts) with every filter the engine runs, until
//     max(10 %, 100) of them yielded victims, one at least without a PDB violation (DryRunPreemption).
//  4. pickOneNodeForPreemption (pick.ts) among the nodes that yielded victims.
import type { SchedulerConfig } from "../config.ts";
import { type Decision, type Plugins, UNSUPPORTED_FILTER } from "../engine.ts";
import { fitErrorMessage } from "../explain.ts";
import { ERR_REASON_AFFINITY_RULES } from "../filters/inter-pod-affinity.ts";
import { ERR_REASON_SPREAD_LABEL } from "../filters/topology-spread.ts";
import { isClaimNotFound, VOLUME_BINDING } from "../filters/volume-binding.ts";
import { VOLUME_ZONE } from "../filters/volume-zone.ts";
import type { Pod } from "../k8s-types.ts";
import { podPriority } from "../node-info.ts";
import type { PluginContext } from "../plugins.ts";
import { compilePod } from "../pod.ts";
import type { NodeInfo, Snapshot } from "../snapshot.ts";
import { compilePdbs, type PodDisruptionBudget } from "./pdb.ts";
import { type Candidate, pickOneNodeForPreemption } from "./pick.ts";
import { type FitsOnNode, selectVictimsOnNode } from "./victims.ts";

/** Filters whose rejection no eviction can change (kube-scheduler: UnschedulableAndUnresolvable). */
const UNRESOLVABLE_FILTERS: ReadonlySet<string> = new Set([
  "NodeUnschedulable",
  "NodeName",
  "TaintToleration",
  "NodeAffinity",
  "AgentTelemetry",
  "LivePressure",
  // Every VolumeBinding (PreFilter and Filter) and VolumeZone failure; VolumeRestrictions' are resolvable.
  VOLUME_BINDING,
  VOLUME_ZONE,
  UNSUPPORTED_FILTER,
]);
/** Reasons of otherwise resolvable filters that are UnschedulableAndUnresolvable in kube-scheduler. */
const UNRESOLVABLE_REASONS: ReadonlySet<string> = new Set([
  ERR_REASON_AFFINITY_RULES,
  ERR_REASON_SPREAD_LABEL,
]);

export const NOT_HELPFUL_REASON = "Preemption is not helpful for scheduling";
/** DefaultPreemptionArgs defaults: examine at least this share of the nodes preemption might help ... */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
/** ... and at least this many (all of them, when fewer). */
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** calculateNumCandidates: how many candidate nodes to find before choosing among them. */
export function candidatesWanted(potentialNodes: number): number {
  const n = Math.floor((potentialNodes * MIN_CANDIDATE_NODES_PERCENTAGE) / 100);
  return Math.min(potentialNodes, Math.max(n, MIN_CANDIDATE_NODES_ABSOLUTE));
}
export const NEVER_MESSAGE = "preemption: not eligible due to preemptionPolicy=Never.";
export const TERMINATING_MESSAGE = "preemption: not eligible due to a terminating pod on the nominated node.";

export interface Victim {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly priority: number;
}

export type Preemption =
  | {
      readonly status: "nominated";
      readonly node: string;
      /** Most important first. */
      readonly victims: readonly Victim[];
      readonly pdbViolations: number;
    }
  | {
      readonly status: "none";
      /** kube-scheduler's PostFilter message, "preemption: ..." (appended to the FitError). */
      readonly message: string;
      /**
       * No node would do even with preemption: a nominatedNodeName the pod carries is stale and is
       * cleared (kube-scheduler's NewPostFilterResultWithNominatedNode("")). False when the pod was not
       * eligible, which leaves its nomination as it is.
       */
      readonly clearNomination: boolean;
    };

export interface PreemptionInput {
  readonly snapshot: Snapshot;
  readonly pod: Pod;
  /** The engine's unschedulable decision for `pod` on `snapshot`. */
  readonly decision: Decision;
  readonly config: SchedulerConfig;
  readonly plugins: Plugins;
  readonly pdbs?: readonly PodDisruptionBudget[];
  readonly now: number;
  /**
   * Where the search starts among the nodes preemption might help (kube-scheduler: a random offset, so
   * that large fleets do not always lose pods on the same nodes); default 0.
   */
  readonly offset?: number;
}

const unresolvable = (filter: string, reason: string): boolean =>
  UNRESOLVABLE_FILTERS.has(filter) ||
  reason.split(", ").some((r) => UNRESOLVABLE_REASONS.has(r) || isClaimNotFound(r));

/** PodEligibleToPreemptOthers; undefined when eligible, else the message. */
function ineligible(input: PreemptionInput, rejectedBy: ReadonlyMap<string, string>): string | undefined {
  const { pod, snapshot } = input;
  if (pod.spec?.preemptionPolicy === "Never") return NEVER_MESSAGE;
  const nominated = pod.status?.nominatedNodeName;
  if (!nominated) return undefined;
  // Its nominated node is now out of reach for good: look for another.
  if (rejectedBy.get(nominated) === "unresolvable") return undefined;
  const node = snapshot.byName.get(nominated);
  const priority = podPriority(pod);
  // kube-scheduler only counts pods terminating with its DisruptionTarget condition; any lower-priority
  // pod being deleted counts here (the snapshot does not keep conditions), which can only wait longer.
  if (node?.pods.some((p) => p.priority < priority && p.terminating)) return TERMINATING_MESSAGE;
  return undefined;
}

/** The preemptor's filters on one node, through the plugins' own per-node entry point. */
function fitsWith(input: PreemptionInput): FitsOnNode {
  const ctx: PluginContext = {
    snapshot: input.snapshot,
    pod: compilePod(input.pod, input.config),
    config: input.config,
    now: input.now,
  };
  return (node: NodeInfo) => {
    for (const filter of input.plugins.filters) {
      const r = filter.check(node, ctx);
      if (r !== null) return typeof r === "string" ? [r] : r;
    }
    return null;
  };
}

/** Where to preempt for `input.pod`, and whom; or why not. Leaves the snapshot as it found it. */
export function preempt(input: PreemptionInput): Preemption {
  const { snapshot, decision, now } = input;
  const rejectedBy = new Map<string, "resolvable" | "unresolvable">();
  for (const r of decision.rejections)
    rejectedBy.set(r.node, unresolvable(r.filter, r.reason) ? "unresolvable" : "resolvable");
  const notEligible = ineligible(input, rejectedBy);
  if (notEligible !== undefined) return { status: "none", message: notEligible, clearNomination: false };

  const priority = podPriority(input.pod);
  const pdbs = compilePdbs(input.pdbs ?? []);
  const counts = new Map<string, number>();
  const count = (reason: string) => counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const candidates: Candidate[] = [];
  let fits: FitsOnNode | undefined;
  const potential: NodeInfo[] = [];
  for (const node of snapshot.nodes) {
    if (rejectedBy.get(node.name) === "resolvable") potential.push(node);
    else count(NOT_HELPFUL_REASON);
  }
  // DryRunPreemption: from the offset, until enough candidates, at least one violating no PDB, are found.
  const wanted = candidatesWanted(potential.length);
  const start = potential.length === 0 ? 0 : Math.abs(Math.trunc(input.offset ?? 0)) % potential.length;
  let nonViolating = 0;
  for (let k = 0; k < potential.length; k++) {
    const node = potential[(start + k) % potential.length] as NodeInfo;
    fits ??= fitsWith(input);
    const result = selectVictimsOnNode(snapshot, node, priority, fits, pdbs, now);
    if (!result.ok) for (const r of result.reasons) count(r);
    else if (result.victims.length > 0) {
      candidates.push({ node: node.name, victims: result.victims, pdbViolations: result.pdbViolations });
      if (result.pdbViolations === 0) nonViolating++;
      if (nonViolating > 0 && candidates.length >= wanted) break;
    }
    // No victims left after the reprieve: the pod fits there now (the cluster changed since the decision).
  }
  const chosen = pickOneNodeForPreemption(candidates, now);
  const best = candidates[chosen];
  if (best === undefined)
    return {
      status: "none",
      message: `preemption: ${fitErrorMessage(snapshot.nodes.length, counts)}`,
      clearNomination: true,
    };
  return {
    status: "nominated",
    node: best.node,
    victims: best.victims.map((v) => ({
      key: v.key,
      name: v.name,
      namespace: v.namespace,
      uid: v.uid,
      priority: v.priority,
    })),
    pdbViolations: best.pdbViolations,
  };
}
