// Acting on one schedule request in the cluster: decide on the current snapshot, remember the intent,
// create the pod (or find the one an earlier attempt created), then assume and bind it through the one
// decision path (place.ts), and say how it ended (request-outcome.ts). Runs on the serial queue (see
// mqtt-requests.ts). Each step either ends the request with an outcome or hands the next step its input.
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import type { SchedulingCore } from "./core.ts";
import { toScheduleDecision } from "./decision.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions } from "./kube.ts";
import { kubeError } from "./kube-error.ts";
import { type PodManifest, requestIdOf } from "./manifest.ts";
import { type BindOutcome, bindPod, decide, splitReasons } from "./place.ts";
import type { ValidRequest } from "./policy.ts";
import {
  type Attempt,
  boundAlready,
  failed,
  notOurs,
  type Outcome,
  rejected,
  type Step,
} from "./request-outcome.ts";
import type { StoredRequest } from "./store.ts";

export type { Outcome } from "./request-outcome.ts";

const requestOf = (pod: PodObject) =>
  requestIdOf(pod as { metadata?: { annotations?: Record<string, string> } });

/** The request path's use of the cluster, bound to the shared core. */
export function createPlacer(core: SchedulingCore, kube: KubeActions) {
  const { settings, now } = core;

  /** Creates (or finds) the pod and binds it. Runs on the queue. */
  async function place(
    valid: ValidRequest,
    manifest: PodManifest,
    stored: StoredRequest | undefined,
  ): Promise<Outcome> {
    const { requestId, namespace, podName } = valid;
    const a: Attempt = { requestId, namespace, podName, key: `${namespace}/${podName}`, now };
    const earlier = await earlierAttempt(a, stored);
    if ("done" in earlier) return earlier.done;
    const chosen = decideOn(a, earlier.next ?? manifest, earlier.next);
    if ("done" in chosen) return chosen.done;
    const { engine, node } = chosen.next;
    const planned = toScheduleDecision(engine, { requestId, now: now() });
    core.requestBegun(requestId, namespace, podName, planned);
    const created = earlier.next ? { next: earlier.next } : await createOrFind(a, manifest, planned);
    if ("done" in created) return created.done;
    // Nothing else ran since the decision (one queue): the pod takes the place the engine chose. A pod
    // still unbound after a conflict, with the same uid, is bound once more, knowingly.
    const pod = created.next;
    const outcome = await bindPod(core, kube, pod, node, { retries: settings.bindRetries, rebindOnce: true });
    return bindEnded(a, outcome, pod, engine, planned);
  }

  /**
   * A repeat of a request that was creating its pod: an earlier attempt may have created (even bound) it
   * before it could answer. Next: that pod, unbound, or undefined when there is none.
   */
  async function earlierAttempt(
    a: Attempt,
    stored: StoredRequest | undefined,
  ): Promise<Step<PodObject | undefined>> {
    if (stored?.state !== "creating") return { next: undefined };
    let pod: PodObject | undefined;
    try {
      pod = await kube.readPod(a.namespace, a.podName);
    } catch (err) {
      return {
        done: failed(a, `cannot check for an earlier attempt's pod: ${(err as Error).message}`, "keep"),
      };
    }
    if (pod !== undefined && requestOf(pod) !== a.requestId) return { done: notOurs(a) };
    if (pod?.spec?.nodeName) return { done: boundAlready(a, pod, stored.decision) };
    return { next: pod };
  }

  /** The engine's choice for the pod (or the manifest); ends the request when nothing fits. */
  function decideOn(
    a: Attempt,
    subject: PodObject | PodManifest,
    pod: PodObject | undefined,
  ): Step<{ engine: Decision; node: string }> {
    let engine: Decision;
    try {
      engine = decide(core, subject, now());
    } catch (err) {
      return { done: failed(a, `cannot schedule: ${(err as Error).message}`, pod ? "keep" : "forget", pod) };
    }
    if (engine.status !== "unschedulable" && engine.node !== undefined)
      return { next: { engine, node: engine.node } };
    const decision = toScheduleDecision(engine, {
      requestId: a.requestId,
      now: now(),
      podUid: pod?.metadata?.uid ?? "",
    });
    const reasons = splitReasons(engine);
    if (pod === undefined) return { done: { decision, persist: "finish", reasons, engine } };
    decision.message += `; pod ${a.key} exists and stays pending until it fits`;
    return { done: { decision, persist: "keep", reasons, left: pod, engine } };
  }

  /** Creates the pod; when it exists already (409), finds it and checks it is ours and unbound. */
  async function createOrFind(
    a: Attempt,
    manifest: PodManifest,
    planned: ScheduleDecision,
  ): Promise<Step<PodObject>> {
    try {
      return { next: await kube.createPod(manifest) };
    } catch (err) {
      const e = kubeError(`create pod ${a.key}`, err);
      if (e.status === 409 && e.reason === "AlreadyExists") return findExisting(a, planned);
      if (e.permanent) return { done: rejected(a, `Kubernetes refused the pod: ${e.message}`) };
      // The pod may or may not exist (e.g. a timeout after the server stored it): a repeat checks.
      return { done: failed(a, `cannot create pod ${a.key}: ${e.message}`, "keep") };
    }
  }

  /** The pod a create found already there: ours and unbound goes on to bind. */
  async function findExisting(a: Attempt, planned: ScheduleDecision): Promise<Step<PodObject>> {
    let pod: PodObject | undefined;
    try {
      pod = await kube.readPod(a.namespace, a.podName);
    } catch (readErr) {
      return {
        done: failed(a, `pod ${a.key} exists but cannot be read: ${(readErr as Error).message}`, "keep"),
      };
    }
    if (pod === undefined)
      return { done: failed(a, `pod ${a.key} was deleted while being created`, "forget") };
    if (requestOf(pod) !== a.requestId) return { done: notOurs(a) };
    if (pod.spec?.nodeName) return { done: boundAlready(a, pod, planned) };
    return { next: pod };
  }

  return { place };
}

/** The request's outcome from how the bind ended. */
function bindEnded(
  a: Attempt,
  outcome: BindOutcome,
  pod: PodObject,
  engine: Decision,
  planned: ScheduleDecision,
): Outcome {
  const uid = pod.metadata?.uid ?? "";
  switch (outcome.kind) {
    case "bound": {
      const decision = toScheduleDecision(engine, { requestId: a.requestId, now: a.now(), podUid: uid });
      return { decision, persist: "finish", reasons: [], engine };
    }
    case "boundAlready":
      return boundAlready(a, outcome.pod, planned);
    case "failed":
      return failed(
        a,
        `pod ${a.key} was created but not bound yet (${outcome.error.message}); the scheduler keeps trying`,
        "keep",
        pod,
        uid,
      );
    case "unreadable":
      return failed(a, `binding conflict, and pod ${a.key} cannot be read: ${outcome.error.message}`, "keep");
    case "deleted":
      return failed(a, `pod ${a.key} was deleted before it could be bound`, "forget");
    case "unbound":
      return failed(
        a,
        `cannot bind pod ${a.key}: ${outcome.error.message}`,
        "keep",
        outcome.pod,
        outcome.pod.metadata?.uid ?? "",
      );
  }
}
