// The secondary scheduler: pods whose spec.schedulerName is ours and that are not bound yet are decided
// one at a time on the shared queue and bound through the Binding subresource, with a `Scheduled` or
// `FailedScheduling` Event on the pod. Unschedulable pods and failed bindings retry with backoff, and
// sooner when the cluster changes. A 409 on the binding means someone else bound the pod (or it was
// recreated): the pod is read again from the API server, never bound blindly a second time.
// PrioritySort: of the pods due, the one with the highest spec.priority is decided first (then the
// oldest). An unschedulable pod may preempt lower-priority pods (preempt.ts); while it waits for them to
// go, the room is held for it: pods nominated to a node count there when pods of lower priority are decided.
import type { Timers } from "../../common/timers.ts";
import type { Decision } from "../scheduler/index.ts";
import type { SchedulingCore } from "./core.ts";
import { isTerminal, type PodObject } from "./inputs.ts";
import type { KubeActions, PodRef } from "./kube.ts";
import { createNominator } from "./nominator.ts";
import { createPendingQueue } from "./pending.ts";
import { bindPod, decide, splitReasons } from "./place.ts";
import { PREBIND } from "./prebind.ts";
import { preemptFor } from "./preempt.ts";
import { dueFirst } from "./priority-sort.ts";
import {
  decisionRecord,
  engineResult,
  failedResult,
  type RecordResult,
  type RecordSource,
} from "./record.ts";

export interface PodSchedulerOptions {
  core: SchedulingCore;
  kube: KubeActions;
  timers: Timers;
  /** Pods (namespace/name) an MQTT request is creating or binding right now: that path owns them. */
  inFlight: ReadonlySet<string>;
  /**
   * The informers have listed what deciding on `pod` needs (nodes and pods; claims, volumes and classes
   * for a pod that uses claims); until then it waits (a half-listed cluster fits nothing).
   */
  ready?: (pod: PodObject) => boolean;
}

export interface PodScheduler {
  /** A pod changed in the informer cache. */
  podChanged(type: "add" | "update" | "delete", pod: PodObject): void;
  /** The informer relisted pods: every pending pod of ours is looked at again. */
  resync(pods: readonly PodObject[]): void;
  /** Nodes changed, a pod freed capacity, or an agent came back: waiting pods are tried again soon. */
  clusterChanged(): void;
  /** A pod of ours left unbound by another path (an MQTT request whose binding failed). */
  handOff(pod: PodObject): void;
  /** Pods waiting for a decision. */
  pending(): number;
  stop(): void;
}

export const keyOf = (pod: PodObject): string =>
  `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;

/** Unbound, alive, not gated, and asking for `schedulerName`. */
export function isPendingFor(pod: PodObject, schedulerName: string): boolean {
  const spec = pod.spec as (PodObject["spec"] & { schedulingGates?: readonly unknown[] }) | undefined;
  return (
    spec?.schedulerName === schedulerName &&
    !spec.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    !isTerminal(pod) &&
    (spec.schedulingGates?.length ?? 0) === 0 &&
    Boolean(pod.metadata?.name)
  );
}

export function createPodScheduler(options: PodSchedulerOptions): PodScheduler {
  const { core, kube, inFlight } = options;
  const { settings, queue, log, now } = core;
  const name = settings.schedulerName;
  /** Our unbound pods, as last seen. */
  const ours = new Map<string, PodObject>();
  /** When each key became due, for the decision latency. */
  const dueSince = new Map<string, number>();
  /** Last FailedScheduling message per pod: the Event is recorded again only when it changes. */
  const lastFailure = new Map<string, string>();
  /** Keys whose attempt is queued; each queued job takes the most important one (PrioritySort). */
  const due = new Set<string>();
  const nominator = createNominator(core, kube, ours);
  const track = nominator.track;

  let stopped = false;

  const attemptNext = (): Promise<void> => {
    const key = dueFirst(due, ours);
    if (key === undefined) return Promise.resolve();
    due.delete(key);
    return attempt(key).catch((err: unknown) => {
      log.error({ err, pod: key }, "scheduling attempt failed unexpectedly");
      pending.failed(key);
    });
  };

  const pending = createPendingQueue({
    initialMs: settings.backoffInitialMs,
    maxMs: settings.backoffMaxMs,
    timers: options.timers,
    now,
    onDue(key) {
      dueSince.set(key, now());
      due.add(key);
      queue.run(attemptNext).catch((err: unknown) => log.error({ err }, "scheduling queue failed"));
    },
  });

  const forgetPod = (key: string): void => {
    ours.delete(key);
    due.delete(key);
    nominator.forget(key);
    pending.done(key);
    lastFailure.delete(key);
    dueSince.delete(key);
  };

  const event = (ref: PodRef, type: "Normal" | "Warning", reason: string, action: string, note: string) => {
    kube
      .recordEvent({ pod: ref, type, reason, action, note, now: now() })
      .catch((err: unknown) =>
        core.warnLimited(
          `event:${reason}`,
          { err, pod: `${ref.namespace}/${ref.name}` },
          `cannot record ${reason} event`,
        ),
      );
  };

  async function attempt(key: string): Promise<void> {
    if (stopped) return;
    const pod = core.nominated.get(key) ?? ours.get(key);
    const uid = pod?.metadata?.uid ?? "";
    // Gone, owned by an MQTT request right now, or placed and waiting for the informer to confirm it.
    if (pod === undefined || inFlight.has(key) || core.isAssumed(uid)) {
      pending.done(key);
      return;
    }
    if (options.ready !== undefined && !options.ready(pod)) {
      pending.failed(key);
      return;
    }
    const ref: PodRef = {
      namespace: pod.metadata?.namespace ?? "default",
      name: pod.metadata?.name ?? "",
      uid,
    };
    const started = now();
    const from: RecordSource = {
      source: "pod",
      pod: key,
      requestId: "",
      advisory: false,
      dryRun: false,
      at: started,
      since: dueSince.get(key) ?? started,
    };
    const keep = (result: RecordResult) => core.record(decisionRecord(from, result, now()));
    let decision: Decision;
    try {
      decision = decide(core, pod, started);
    } catch (err) {
      keep(failedResult("error", [`cannot schedule: ${(err as Error).message}`]));
      core.warnLimited(`decide:${key}`, { err, pod: key }, "cannot schedule pod");
      pending.failed(key);
      return;
    }
    if (decision.status === "unschedulable" || decision.node === undefined) {
      keep(engineResult(decision, "unschedulable", splitReasons(decision)));
      // PostFilter: FitError, then " preemption: ..." when preemption did not help (kube-scheduler's wording).
      const preemption = await preemptFor(core, kube, pod, decision);
      if (preemption.kind === "nominated") {
        for (const other of nominator.nominated(key, preemption.node, pod.spec?.priority ?? 0)) {
          pending.done(other);
          pending.add(other);
        }
      } else if (preemption.kind === "none" && preemption.cleared) nominator.cleared(key);
      if (preemption.kind === "failed")
        core.warnLimited(
          `preempt:${key}`,
          { err: preemption.error, pod: key },
          "preemption failed; will retry",
        );
      const message =
        preemption.kind === "none" && preemption.message !== ""
          ? `${decision.message} ${preemption.message}`
          : decision.message;
      if (lastFailure.get(key) !== message) {
        const first = !lastFailure.has(key);
        lastFailure.set(key, message);
        event(ref, "Warning", "FailedScheduling", "Scheduling", message);
        kube
          .markUnschedulable?.(ref, message, now(), first)
          ?.catch((err: unknown) =>
            core.warnLimited("pod-status", { err, pod: key }, "cannot set PodScheduled=False"),
          );
      }
      const delay = pending.failed(key);
      log.debug({ pod: key, message, retryInMs: delay }, "pod unschedulable");
      return;
    }
    const node = decision.node;
    const failed = (reason: string) => keep(engineResult(decision, "error", [reason]));
    const outcome = await bindPod(core, kube, pod, node, { retries: 0, rebindOnce: false });
    switch (outcome.kind) {
      case "bound":
        keep(engineResult(decision, "scheduled"));
        forgetPod(key);
        return;
      case "boundAlready":
        if (outcome.samePod) {
          if (outcome.node === node) keep(engineResult(decision, "scheduled"));
          else failed(`pod was bound to ${outcome.node} by someone else`);
        }
        forgetPod(key);
        return;
      case "unbound":
        forgetPod(key);
        if (isPendingFor(outcome.pod, name)) {
          track(key, outcome.pod); // recreated under the same name: a new pod, decided afresh
          pending.add(key);
        }
        return;
      case "deleted":
        forgetPod(key);
        failed("pod was deleted before it could be bound");
        return;
      case "unreadable":
        failed(`binding conflict, and the pod cannot be read: ${outcome.error.message}`);
        pending.failed(key);
        return;
      case "failed": {
        failed(outcome.error.message);
        // As kube-scheduler: a PreBind failure is a FailedScheduling Event on the pod, with its error.
        if (outcome.error.operation === PREBIND)
          event(ref, "Warning", "FailedScheduling", "Scheduling", outcome.error.message);
        const delay = pending.failed(key);
        core.warnLimited(
          `bind:${outcome.error.status ?? "net"}`,
          { err: outcome.error, pod: key, node, retryInMs: delay },
          "binding failed; will retry",
        );
        return;
      }
    }
  }

  return {
    podChanged(type, pod) {
      const key = keyOf(pod);
      if (type !== "delete" && isPendingFor(pod, name)) {
        track(key, pod);
        pending.add(key);
        return;
      }
      if (ours.has(key)) forgetPod(key);
      // A bound pod leaving or finishing frees capacity.
      if (pod.spec?.nodeName && (type === "delete" || isTerminal(pod))) pending.clusterChanged();
    },
    resync(pods) {
      const seen = new Set<string>();
      for (const pod of pods) {
        if (!isPendingFor(pod, name)) continue;
        const key = keyOf(pod);
        seen.add(key);
        track(key, pod);
        pending.add(key);
      }
      for (const key of [...ours.keys()]) if (!seen.has(key)) forgetPod(key);
      pending.clusterChanged();
    },
    clusterChanged: () => pending.clusterChanged(),
    handOff(pod) {
      if (stopped || !isPendingFor(pod, name)) return;
      const key = keyOf(pod);
      track(key, pod);
      pending.done(key);
      pending.failed(key); // after a failed binding: try again after the backoff, not at once
    },
    pending: () => pending.size,
    stop() {
      stopped = true;
      pending.stop();
    },
  };
}
