// The one decision path both sources of work go through — pending pods (pod-scheduler.ts) and MQTT schedule
// requests (mqtt-requests.ts, request-place.ts): decide on the current snapshot with the scheduler's plugins,
// assume the pod onto the chosen node, bind it, and on a 409/404 re-read the pod and believe the API server.
// How binding ended is one outcome type, BindOutcome; each source only says what it means for it.
// Runs on the serial queue: nothing else decides between a decision and its assumption.
import type { Decision, Pod } from "../scheduler/index.ts";
import { nominatedAgainst, withNominatedPods } from "../scheduler/preemption/index.ts";
import type { SchedulingCore } from "./core.ts";
import type { KubeRequestError } from "./errors.ts";
import type { PodObject } from "./inputs.ts";
import type { KubeActions, PodRef } from "./kube.ts";
import { kubeError } from "./kube-error.ts";
import type { PodManifest } from "./manifest.ts";
import { preBindVolumes } from "./prebind.ts";

/**
 * The engine's decision on the current snapshot, with the scheduler's (possibly injected) plugins. Assumes
 * nothing. Pods nominated by a preemption (core.nominated) that are at least as important as `pod` count on
 * their nominated nodes, as kube-scheduler's RunFilterPluginsWithNominatedPods has it.
 */
export function decide(core: SchedulingCore, pod: PodManifest | PodObject, at: number): Decision {
  const snapshot = core.cache.get(at);
  const nominated = nominatedAgainst(pod as Pod, core.nominated.values());
  return withNominatedPods(snapshot, nominated, () => core.scheduler.evaluate(snapshot, pod, at));
}

/** Distinct filter reasons of an unschedulable decision ("Insufficient cpu, Insufficient memory" split). */
export const splitReasons = (d: Decision): string[] => [
  ...new Set(d.rejections.flatMap((r) => r.reason.split(", "))),
];

/** How a binding ended. */
export type BindOutcome =
  /** Our Binding was accepted. */
  | { readonly kind: "bound" }
  /** 409/404, and the API server shows the pod bound: by an earlier attempt or by someone else. */
  | {
      readonly kind: "boundAlready";
      readonly pod: PodObject;
      readonly node: string;
      /** Same uid as the pod we tried to bind (else a pod recreated under its name). */
      readonly samePod: boolean;
    }
  /** 409/404, and the pod is there but unbound: recreated under the same name, or the same pod once more. */
  | {
      readonly kind: "unbound";
      readonly pod: PodObject;
      readonly samePod: boolean;
      readonly error: KubeRequestError;
    }
  /** 409/404, and the pod no longer exists. */
  | { readonly kind: "deleted" }
  /** 409/404, and the pod cannot be read to find out why. */
  | { readonly kind: "unreadable"; readonly error: Error }
  /** Any other failure, after the retries allowed. */
  | { readonly kind: "failed"; readonly error: KubeRequestError };

export interface BindOptions {
  /** Extra attempts of a Binding that failed with a retryable error (not 409/404, not permanent). */
  readonly retries: number;
  /** The same pod still unbound after a conflict: bind it once more, knowingly (the request path). */
  readonly rebindOnce: boolean;
}

const refOf = (pod: PodObject): PodRef => ({
  namespace: pod.metadata?.namespace ?? "default",
  name: pod.metadata?.name ?? "",
  uid: pod.metadata?.uid ?? "",
});

/** The pod takes its place on `node` in the snapshot until the informer confirms it (no-op when already there). */
export function assume(core: SchedulingCore, pod: PodObject, node: string): void {
  const snapshot = core.cache.current();
  const uid = pod.metadata?.uid ?? "";
  if (snapshot === undefined || uid === "" || core.isAssumed(uid)) return;
  try {
    core.scheduler.assumed.assume(snapshot, pod, node, core.now());
  } catch (err) {
    core.log.debug({ err, pod: `${refOf(pod).namespace}/${refOf(pod).name}` }, "pod already in the snapshot");
  }
}

function forget(core: SchedulingCore, uid: string): void {
  const snapshot = core.cache.current();
  if (snapshot !== undefined && uid !== "") core.scheduler.assumed.forget(snapshot, uid);
}

/**
 * Assumes `pod` onto `node` and binds it, with a `Scheduled` Event when that works. A 409 or 404 is
 * believed: the pod is read again and the outcome says what the API server holds. Whenever the pod did
 * not end up on `node`, its assumption is dropped.
 */
export async function bindPod(
  core: SchedulingCore,
  kube: KubeActions,
  pod: PodObject,
  node: string,
  options: BindOptions,
): Promise<BindOutcome> {
  const ref = refOf(pod);
  const key = `${ref.namespace}/${ref.name}`;
  assume(core, pod, node);
  // VolumeBinding PreBind: claims and volumes first; the pod is not bound when they cannot be written.
  const volumes = await preBindVolumes(core.cache.current(), kube, pod, node);
  if (volumes !== undefined) {
    forget(core, ref.uid);
    return { kind: "failed", error: volumes };
  }
  for (let round = 0; ; round++) {
    const error = await bindWithRetries(core, kube, ref, node, options.retries);
    if (error === undefined) {
      kube
        .recordEvent({
          pod: ref,
          type: "Normal",
          reason: "Scheduled",
          action: "Binding",
          note: `Successfully assigned ${key} to ${node}`,
          now: core.now(),
        })
        .catch((err: unknown) =>
          core.warnLimited("event:Scheduled", { err, pod: key }, "cannot record Scheduled event"),
        );
      return { kind: "bound" };
    }
    if (error.status !== 409 && error.status !== 404) {
      forget(core, ref.uid);
      return { kind: "failed", error };
    }
    // Someone else bound it, or it was deleted or recreated: believe the API server, not the cache.
    let fresh: PodObject | undefined;
    try {
      fresh = await kube.readPod(ref.namespace, ref.name);
    } catch (readErr) {
      forget(core, ref.uid);
      return { kind: "unreadable", error: readErr as Error };
    }
    const samePod = fresh?.metadata?.uid === ref.uid;
    const boundTo = fresh?.spec?.nodeName;
    if (fresh !== undefined && boundTo) {
      if (boundTo !== node || !samePod) forget(core, ref.uid);
      core.log.info({ pod: key, node: boundTo, chosen: node }, "pod already bound; not binding again");
      return { kind: "boundAlready", pod: fresh, node: boundTo, samePod };
    }
    forget(core, ref.uid);
    if (fresh === undefined) return { kind: "deleted" };
    if (!samePod || !options.rebindOnce || round > 0) return { kind: "unbound", pod: fresh, samePod, error };
    assume(core, fresh, node);
  }
}

async function bindWithRetries(
  core: SchedulingCore,
  kube: KubeActions,
  ref: PodRef,
  node: string,
  retries: number,
): Promise<KubeRequestError | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await kube.bind(ref, node);
      return undefined;
    } catch (err) {
      const e = kubeError(`bind ${ref.namespace}/${ref.name}`, err);
      if (e.status === 409 || e.status === 404 || e.permanent || attempt >= retries) return e;
      await core.sleep(core.settings.bindRetryDelayMs * 2 ** attempt);
    }
  }
}
