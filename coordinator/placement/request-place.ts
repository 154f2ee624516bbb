// Acting on one schedule request in the cluster: decide on the current snapshot, remember the intent,
// create the pod (or find the one an earlier attempt created), take its place in the snapshot, bind it,
// and say how it ended. A 409 is believed: the pod is read again, and only bound once more when it is
// still unbound and still the same pod. Runs on the serial queue (see mqtt-requests.ts).
import type { ScheduleDecision } from "../../proto/index.ts";
import { type Decision, schedule } from "../scheduler/index.ts";
import type { SchedulingCore } from "./core.ts";
import { alreadyBoundDecision, errorDecision, rejectedDecision, toScheduleDecision } from "./decision.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions, PodRef } from "./kube.ts";
import { kubeError } from "./kube-error.ts";
import { type PodManifest, requestIdOf } from "./manifest.ts";
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
}

export const splitReasons = (d: Decision): string[] => [
  ...new Set(d.rejections.flatMap((r) => r.reason.split(", "))),
];

/** Engine decision on the current snapshot, nothing assumed (dry-run, standalone, or before creating). */
export function decideOnly(core: SchedulingCore, pod: PodManifest | PodObject, at: number): Decision {
  const { cache, scheduler } = core;
  const snapshot = cache.get(at);
  scheduler.assumed.expire(snapshot, at);
  return schedule(snapshot, pod, scheduler.config, at);
}

/** The request path's use of the cluster, bound to the shared core. */
export function createPlacer(core: SchedulingCore, kube: KubeActions) {
  const { settings, scheduler, cache, store, log, now } = core;

  function forgetAssumed(uid: string): void {
    const snapshot = cache.current();
    if (snapshot !== undefined && uid !== "") scheduler.assumed.forget(snapshot, uid);
  }

  async function bindWithRetries(ref: PodRef, node: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        await kube.bind(ref, node);
        return undefined;
      } catch (err) {
        const e = kubeError(`bind ${ref.namespace}/${ref.name}`, err);
        if (e.status === 409 || e.status === 404 || e.permanent || attempt >= settings.bindRetries) return e;
        await core.sleep(settings.bindRetryDelayMs * 2 ** attempt);
      }
    }
  }

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
      if (
        pod !== undefined &&
        requestIdOf(pod as { metadata?: { annotations?: Record<string, string> } }) !== requestId
      )
        return notOurs();
      if (pod?.spec?.nodeName) return bound(pod, stored.decision);
    }

    const at = now();
    let engine: Decision;
    try {
      engine = decideOnly(core, pod ?? manifest, at);
    } catch (err) {
      return error(`cannot schedule: ${(err as Error).message}`, pod ? "keep" : "forget", pod);
    }
    if (engine.status === "unschedulable" || engine.node === undefined) {
      const decision = toScheduleDecision(engine, {
        requestId,
        now: now(),
        podUid: pod?.metadata?.uid ?? "",
      });
      if (pod === undefined) return { decision, persist: "finish", reasons: splitReasons(engine) };
      decision.message += `; pod ${key} exists and stays pending until it fits`;
      return { decision, persist: "keep", reasons: splitReasons(engine), left: pod };
    }
    const node = engine.node;
    const planned = toScheduleDecision(engine, { requestId, now: now() });
    store.begin(requestId, namespace, podName, planned, now());

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
          if (requestIdOf(pod as { metadata?: { annotations?: Record<string, string> } }) !== requestId)
            return notOurs();
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

    const uid = pod.metadata?.uid ?? "";
    const ref: PodRef = { namespace, name: podName, uid };
    // Nothing else ran since the decision (one queue): the pod takes the place the engine chose.
    const snapshot = cache.current();
    if (snapshot !== undefined && uid !== "" && !core.isAssumed(uid)) {
      try {
        scheduler.assumed.assume(snapshot, pod, node, now());
      } catch (err) {
        log.debug({ err, pod: key }, "pod already in the snapshot");
      }
    }
    // A 409 means the pod changed under us: read it again. Bound: someone (an earlier attempt, another
    // scheduler) placed it, and that stands. Still unbound with the same uid: bind once more, knowingly.
    for (let round = 0; ; round++) {
      const failure = await bindWithRetries(ref, node);
      if (failure === undefined) {
        kube
          .recordEvent({
            pod: ref,
            type: "Normal",
            reason: "Scheduled",
            action: "Binding",
            note: `Successfully assigned ${key} to ${node}`,
            now: now(),
          })
          .catch((err: unknown) =>
            core.warnLimited("event:Scheduled", { err, pod: key }, "cannot record Scheduled event"),
          );
        return {
          decision: toScheduleDecision(engine, { requestId, now: now(), podUid: uid }),
          persist: "finish",
          reasons: [],
        };
      }
      const e = kubeError(`bind ${key}`, failure);
      if (e.status !== 409 && e.status !== 404) {
        forgetAssumed(uid);
        return error(
          `pod ${key} was created but not bound yet (${e.message}); the scheduler keeps trying`,
          "keep",
          pod,
          uid,
        );
      }
      let fresh: PodObject | undefined;
      try {
        fresh = await kube.readPod(namespace, podName);
      } catch (readErr) {
        forgetAssumed(uid);
        return error(
          `binding conflict, and pod ${key} cannot be read: ${(readErr as Error).message}`,
          "keep",
        );
      }
      if (fresh?.spec?.nodeName) {
        if (fresh.spec.nodeName !== node) forgetAssumed(uid);
        log.info(
          { pod: key, node: fresh.spec.nodeName, chosen: node },
          "pod already bound; not binding again",
        );
        return bound(fresh, planned);
      }
      forgetAssumed(uid);
      if (fresh === undefined) return error(`pod ${key} was deleted before it could be bound`, "forget");
      if (fresh.metadata?.uid !== uid || round > 0)
        return error(`cannot bind pod ${key}: ${e.message}`, "keep", fresh, fresh.metadata?.uid ?? "");
      const again = cache.current();
      if (again !== undefined) {
        try {
          scheduler.assumed.assume(again, fresh, node, now());
        } catch {}
      }
    }
  }

  return { place };
}
