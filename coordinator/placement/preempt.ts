// Acting on DefaultPreemption for a pending pod the engine found unschedulable (kube-scheduler's
// PostFilter + prepareCandidate): ask the pure core (scheduler/preemption) where to preempt; if some node
// would do, list the PodDisruptionBudgets, ask again with them (they change which victims and node, never
// whether a node exists, so the list is only read when preemption will happen), evict each victim
// (DisruptionTarget condition, then delete, as kube-scheduler does) with a `Preempted` Event on it, and
// set the preemptor's status.nominatedNodeName. The preemptor stays pending: the victims' deletion
// wakes the pending queue and the next attempt binds it. Runs on the serial queue.
import type { Decision, Pod, Snapshot } from "../scheduler/index.ts";
import {
  nominatedAgainst,
  type PodDisruptionBudget,
  preempt,
  withNominatedPods,
} from "../scheduler/preemption/index.ts";
import type { SchedulingCore } from "./core.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions, PodRef } from "./kube.ts";

export type PreemptOutcome =
  /** Victims evicted on `node`, the pod nominated to it. */
  | { readonly kind: "nominated"; readonly node: string; readonly victims: readonly string[] }
  /**
   * No preemption; `message` is the PostFilter message for the FailedScheduling Event ("" for none);
   * `cleared`: no node would do, so any nomination the pod had is dropped.
   */
  | { readonly kind: "none"; readonly message: string; readonly cleared: boolean }
  /** An API call failed: nothing more is done this attempt; the pod retries after its backoff. */
  | { readonly kind: "failed"; readonly error: Error };

const refOf = (pod: PodObject): PodRef => ({
  namespace: pod.metadata?.namespace ?? "default",
  name: pod.metadata?.name ?? "",
  uid: pod.metadata?.uid ?? "",
});

export async function preemptFor(
  core: SchedulingCore,
  kube: KubeActions,
  pod: PodObject,
  decision: Decision,
  random: () => number = Math.random,
): Promise<PreemptOutcome> {
  const { listPdbs, evict, nominate } = kube;
  if (listPdbs === undefined || evict === undefined || nominate === undefined)
    return { kind: "none", message: "", cleared: false };
  const ref = refOf(pod);
  // Victims are chosen with the pods nominated ahead of this one in place (SelectVictimsOnNode's
  // RunFilterPluginsWithNominatedPods); they are never victims themselves (never of lower priority).
  const nominated = nominatedAgainst(pod as Pod, core.nominated.values());
  const offset = Math.floor(random() * 2 ** 31);
  const run = (snapshot: Snapshot, now: number, pdbs?: readonly PodDisruptionBudget[]) =>
    withNominatedPods(snapshot, nominated, () =>
      preempt({
        pod,
        decision,
        config: core.scheduler.config,
        plugins: core.scheduler.plugins,
        snapshot,
        now,
        offset,
        ...(pdbs === undefined ? {} : { pdbs }),
      }),
    );
  const probe = run(core.cache.get(core.now()), core.now());
  if (probe.status === "none") {
    if (probe.clearNomination && pod.status?.nominatedNodeName) {
      await nominate
        .call(kube, ref, "")
        .catch((err: unknown) =>
          core.warnLimited(
            "nominate",
            { err, pod: `${ref.namespace}/${ref.name}` },
            "cannot clear nominatedNodeName",
          ),
        );
    }
    return { kind: "none", message: probe.message, cleared: probe.clearNomination };
  }
  let pdbs: Awaited<ReturnType<typeof listPdbs>>;
  try {
    pdbs = await listPdbs.call(kube);
  } catch (err) {
    return { kind: "failed", error: err as Error };
  }
  const now = core.now();
  const result = run(core.cache.get(now), now, pdbs);
  if (result.status === "none")
    return { kind: "none", message: result.message, cleared: result.clearNomination };
  const message = `${core.settings.schedulerName}: preempting to accommodate a higher priority pod`;
  const evicted: string[] = [];
  for (const v of result.victims) {
    const victim: PodRef = { namespace: v.namespace, name: v.name, uid: v.uid };
    try {
      await evict.call(kube, victim, message, core.now());
    } catch (err) {
      return { kind: "failed", error: err as Error };
    }
    evicted.push(`${v.namespace}/${v.name}`);
    kube
      .recordEvent({
        pod: victim,
        related: ref,
        type: "Normal",
        reason: "Preempted",
        action: "Preempting",
        note: `Preempted by pod ${ref.uid} on node ${result.node}`,
        now: core.now(),
      })
      .catch((err: unknown) =>
        core.warnLimited(
          "event:Preempted",
          { err, pod: `${v.namespace}/${v.name}` },
          "cannot record Preempted event",
        ),
      );
  }
  try {
    await nominate.call(kube, ref, result.node);
  } catch (err) {
    // The victims are gone already; the next attempt places the pod whether or not the field is set.
    core.warnLimited(
      "nominate",
      { err, pod: `${ref.namespace}/${ref.name}` },
      "cannot set nominatedNodeName",
    );
  }
  core.log.info(
    {
      pod: `${ref.namespace}/${ref.name}`,
      node: result.node,
      victims: evicted,
      pdbViolations: result.pdbViolations,
    },
    "preempted lower-priority pods",
  );
  return { kind: "nominated", node: result.node, victims: evicted };
}
