// Acting on one schedule request in the cluster: decide on the current snapshot, remember the intent,
// create the pod (or find the one an earlier attempt created), then assume and bind it through the one
// decision path (place.ts), and say how it ended. Runs on the serial queue (see mqtt-requests.ts).
import type { ScheduleDecision } from "../../proto/index.ts";
import type { Decision } from "../scheduler/index.ts";
import type { SchedulingCore } from "./core.ts";
import { alreadyBoundDecision, errorDecision, rejectedDecision, toScheduleDecision } from "./decision.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions } from "./kube.ts";
import { kubeError } from "./kube-error.ts";
import { type PodManifest, requestIdOf } from "./manifest.ts";
import { bindPod, decide, splitReasons } from "./place.ts";
import type { ValidRequest } from "./policy.ts";
import type { StoredRequest } from "./store.ts";

/** How a request ended: the reply, and what the store keeps of it. */
export interface Outcome {
  decision: ScheduleDecision;
  /** finish: final, answer every repeat with it; forget: nothing created; keep: a pod may exist, check on repeat. */
  persist: "finish" | "forget" | "keep";
  reasons: string[];
  /** A pod of ours left unbound. */
  left?: PodObject;
  /** The engine decision the reply was made from (the record keeps its runner-up's scores). */
  engine?: Decision;
}

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
    const key = `${namespace}/${podName}`;
    const error = (message: string, persist: Outcome["persist"], left?: PodObject, podUid = ""): Outcome => ({
      decision: errorDecision(requestId, message, now(), podUid),
      persist,
      reasons: [message],
      ...(left ? { left } : {}),
    });
    const bound = (pod: PodObject, planned: ScheduleDecision | undefined): Outcome => ({
      decision: alreadyBoundDecision(planned, {
        requestId,
        now: now(),
        node: pod.spec?.nodeName ?? "",
        podUid: pod.metadata?.uid ?? "",
      }),
      persist: "finish",
      reasons: [],
    });
    const notOurs = (): Outcome => {
      const reason = `pod ${key} already exists and was not created by request ${JSON.stringify(requestId)}`;
      return { decision: rejectedDecision(requestId, reason, now()), persist: "forget", reasons: [reason] };
    };

    let pod: PodObject | undefined;
    if (stored?.state === "creating") {
      // An earlier attempt may have created (even bound) the pod before it could answer.
      try {
        pod = await kube.readPod(namespace, podName);
      } catch (err) {
        return error(`cannot check for an earlier attempt's pod: ${(err as Error).message}`, "keep");
      }
      if (pod !== undefined && requestOf(pod) !== requestId) return notOurs();
      if (pod?.spec?.nodeName) return bound(pod, stored.decision);
    }

    let engine: Decision;
    try {
      engine = decide(core, pod ?? manifest, now());
    } catch (err) {
      return error(`cannot schedule: ${(err as Error).message}`, pod ? "keep" : "forget", pod);
    }
    if (engine.status === "unschedulable" || engine.node === undefined) {
      const decision = toScheduleDecision(engine, {
        requestId,
        now: now(),
        podUid: pod?.metadata?.uid ?? "",
      });
      if (pod === undefined) return { decision, persist: "finish", reasons: splitReasons(engine), engine };
      decision.message += `; pod ${key} exists and stays pending until it fits`;
      return { decision, persist: "keep", reasons: splitReasons(engine), left: pod, engine };
    }
    const node = engine.node;
    const planned = toScheduleDecision(engine, { requestId, now: now() });
    core.requestBegun(requestId, namespace, podName, planned);

    if (pod === undefined) {
      try {
        pod = await kube.createPod(manifest);
      } catch (err) {
        const e = kubeError(`create pod ${key}`, err);
        if (e.status === 409 && e.reason === "AlreadyExists") {
          try {
            pod = await kube.readPod(namespace, podName);
          } catch (readErr) {
            return error(`pod ${key} exists but cannot be read: ${(readErr as Error).message}`, "keep");
          }
          if (pod === undefined) return error(`pod ${key} was deleted while being created`, "forget");
          if (requestOf(pod) !== requestId) return notOurs();
          if (pod.spec?.nodeName) return bound(pod, planned);
        } else if (e.permanent) {
          const reason = `Kubernetes refused the pod: ${e.message}`;
          return {
            decision: rejectedDecision(requestId, reason, now()),
            persist: "forget",
            reasons: [reason],
          };
        } else {
          // The pod may or may not exist (e.g. a timeout after the server stored it): a repeat checks.
          return error(`cannot create pod ${key}: ${e.message}`, "keep");
        }
      }
    }

    // Nothing else ran since the decision (one queue): the pod takes the place the engine chose. A pod
    // still unbound after a conflict, with the same uid, is bound once more, knowingly.
    const uid = pod.metadata?.uid ?? "";
    const outcome = await bindPod(core, kube, pod, node, { retries: settings.bindRetries, rebindOnce: true });
    switch (outcome.kind) {
      case "bound":
        return {
          decision: toScheduleDecision(engine, { requestId, now: now(), podUid: uid }),
          persist: "finish",
          reasons: [],
          engine,
        };
      case "boundAlready":
        return bound(outcome.pod, planned);
      case "failed":
        return error(
          `pod ${key} was created but not bound yet (${outcome.error.message}); the scheduler keeps trying`,
          "keep",
          pod,
          uid,
        );
      case "unreadable":
        return error(`binding conflict, and pod ${key} cannot be read: ${outcome.error.message}`, "keep");
      case "deleted":
        return error(`pod ${key} was deleted before it could be bound`, "forget");
      case "unbound":
        return error(
          `cannot bind pod ${key}: ${outcome.error.message}`,
          "keep",
          outcome.pod,
          outcome.pod.metadata?.uid ?? "",
        );
    }
  }

  return { place };
}
