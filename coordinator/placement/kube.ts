// The Kubernetes calls the scheduling service acts with, behind a small interface so tests can swap them:
// create a pod, read it, bind it (Binding subresource, with the pod's uid as precondition), record an
// events.k8s.io/v1 Event on it, and set its PodScheduled=False condition when it cannot be placed; for
// preemption, list PodDisruptionBudgets, set a pod's status.nominatedNodeName and evict a victim
// (DisruptionTarget condition, then delete). Failures become KubeRequestError with the HTTP status and Status reason.
import { hostname } from "node:os";
import {
  CoreV1Api,
  EventsV1Api,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  V1MicroTime,
  type V1Pod,
} from "@kubernetes/client-node";
import type { PersistentVolume, PersistentVolumeClaim } from "../scheduler/filters/volume-types.ts";
import type { PodDisruptionBudget } from "../scheduler/preemption/index.ts";
import type { KubeRequestError } from "./errors.ts";
import { kubeError } from "./kube-error.ts";
import { pooledKubeConfig } from "./kube-pool.ts";
import { bindVolume, selectNode } from "./kube-volumes.ts";
import type { PodManifest } from "./manifest.ts";

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface PodEvent {
  readonly pod: PodRef;
  readonly type: "Normal" | "Warning";
  /** "Scheduled", "FailedScheduling". */
  readonly reason: string;
  /** "Binding", "Scheduling". */
  readonly action: string;
  readonly note: string;
  readonly now: number;
  /** The Event's `related` object (the preemptor, on a victim's Preempted Event). */
  readonly related?: PodRef;
}

export interface KubeActions {
  /** Creates the pod; the server's copy (with uid) comes back. */
  createPod(pod: PodManifest): Promise<V1Pod>;
  /** The pod as the API server has it now; undefined when it does not exist. */
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** POST .../bindings for the pod with uid `pod.uid` to `node`. */
  bind(pod: PodRef, node: string): Promise<void>;
  recordEvent(event: PodEvent): Promise<void>;
  /**
   * PodScheduled=False, reason Unschedulable, with the FitError message, as kube-scheduler sets it (a
   * strategic merge patch of pods/status). `transition` also sets lastTransitionTime (the first time).
   * Optional, so test doubles need not implement it.
   */
  markUnschedulable?(pod: PodRef, message: string, now: number, transition: boolean): Promise<void>;
  /** VolumeBinding PreBind: annotates the claim `volume.kubernetes.io/selected-node: node` (409 when it changed). */
  selectNode?(claim: PersistentVolumeClaim, node: string): Promise<void>;
  /** VolumeBinding PreBind: sets a pre-provisioned volume's claimRef to the claim (409 when it changed). */
  bindVolume?(pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void>;
  /** Every policy/v1 PodDisruptionBudget (all namespaces). Optional, like the two below: without them, no preemption. */
  listPdbs?(): Promise<PodDisruptionBudget[]>;
  /** status.nominatedNodeName (strategic merge patch of pods/status); "" clears it. */
  nominate?(pod: PodRef, node: string): Promise<void>;
  /**
   * Preempts `victim` as kube-scheduler does: DisruptionTarget=True (reason PreemptionByScheduler,
   * `message`) on pods/status, then DELETE with the victim's uid as precondition. Resolves false when
   * the victim was already gone (404, or 409: a pod recreated under its name is not ours to delete).
   */
  evict?(victim: PodRef, message: string, now: number): Promise<boolean>;
}

export interface KubeActionsOptions {
  kc: KubeConfig;
  /** reportingController of our Events (kube-scheduler uses its scheduler name). */
  controller: string;
  /** reportingInstance; default `<controller>-<hostname>`. */
  instance?: string;
  /** Told of every failed API call: a bounded operation name and the HTTP status (or "error"). */
  onError?: (operation: string, code: string) => void;
}

export function createKubeActions(options: KubeActionsOptions): KubeActions {
  const kc = pooledKubeConfig(options.kc);
  const core = kc.makeApiClient(CoreV1Api);
  const events = kc.makeApiClient(EventsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const instance = (options.instance ?? `${options.controller}-${hostname()}`).slice(0, 128);
  const failed = (operation: string, error: KubeRequestError): KubeRequestError => {
    options.onError?.(operation, error.status === undefined ? "error" : String(error.status));
    return error;
  };
  return {
    async createPod(pod) {
      try {
        return await core.createNamespacedPod({
          namespace: pod.metadata.namespace,
          body: structuredClone(pod) as V1Pod,
        });
      } catch (err) {
        throw failed(
          "create_pod",
          kubeError(`create pod ${pod.metadata.namespace}/${pod.metadata.name}`, err),
        );
      }
    },
    async readPod(namespace, name) {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (err) {
        const e = kubeError(`read pod ${namespace}/${name}`, err);
        if (e.status === 404) return undefined;
        throw failed("read_pod", e);
      }
    },
    async bind(pod, node) {
      try {
        await core.createNamespacedBinding({
          namespace: pod.namespace,
          body: {
            apiVersion: "v1",
            kind: "Binding",
            metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
            target: { apiVersion: "v1", kind: "Node", name: node },
          },
        });
      } catch (err) {
        throw failed("bind", kubeError(`bind pod ${pod.namespace}/${pod.name} to ${node}`, err));
      }
    },
    async markUnschedulable(pod, message, now, transition) {
      const condition = {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message,
        lastProbeTime: null,
        ...(transition ? { lastTransitionTime: new Date(now).toISOString() } : {}),
      };
      try {
        await core.patchNamespacedPodStatus(
          { name: pod.name, namespace: pod.namespace, body: { status: { conditions: [condition] } } },
          setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
        );
      } catch (err) {
        throw failed("pod_status", kubeError(`set PodScheduled on ${pod.namespace}/${pod.name}`, err));
      }
    },
    async selectNode(claim, node) {
      const ref = `${claim.metadata?.namespace}/${claim.metadata?.name}`;
      try {
        await selectNode(core, claim, node);
      } catch (err) {
        throw failed("claim", kubeError(`annotate claim ${ref} with selected-node ${node}`, err));
      }
    },
    async bindVolume(pv, claim) {
      const ref = `${claim.metadata?.namespace}/${claim.metadata?.name}`;
      try {
        await bindVolume(core, pv, claim);
      } catch (err) {
        throw failed("volume", kubeError(`bind volume ${pv.metadata?.name} to claim ${ref}`, err));
      }
    },
    async listPdbs() {
      try {
        return (await policy.listPodDisruptionBudgetForAllNamespaces()).items as PodDisruptionBudget[];
      } catch (err) {
        throw failed("list_pdbs", kubeError("list poddisruptionbudgets", err));
      }
    },
    async nominate(pod, node) {
      try {
        await core.patchNamespacedPodStatus(
          // null removes the field (merge semantics), as kube-scheduler's ClearNominatedNodeName does.
          { name: pod.name, namespace: pod.namespace, body: { status: { nominatedNodeName: node || null } } },
          setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
        );
      } catch (err) {
        throw failed("pod_status", kubeError(`set nominatedNodeName on ${pod.namespace}/${pod.name}`, err));
      }
    },
    async evict(victim, message, now) {
      // 404: gone. 409 (delete precondition) or 422 "metadata.uid ... immutable" (the patch names the uid):
      // a pod recreated under the victim's name, which is not ours to touch.
      const gone = (err: unknown, what: string): boolean => {
        const e = kubeError(`${what} ${victim.namespace}/${victim.name}`, err);
        if (e.status === 404 || e.status === 409) return true;
        if (e.status === 422 && e.message.includes("metadata.uid")) return true;
        throw failed("evict", e);
      };
      const condition = {
        type: "DisruptionTarget",
        status: "True",
        reason: "PreemptionByScheduler",
        message,
        lastTransitionTime: new Date(now).toISOString(),
      };
      try {
        await core.patchNamespacedPodStatus(
          {
            name: victim.name,
            namespace: victim.namespace,
            body: { metadata: { uid: victim.uid }, status: { conditions: [condition] } },
          },
          setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
        );
      } catch (err) {
        if (gone(err, "set DisruptionTarget on")) return false;
      }
      try {
        await core.deleteNamespacedPod({
          name: victim.name,
          namespace: victim.namespace,
          body: { preconditions: { uid: victim.uid } },
        });
        return true;
      } catch (err) {
        if (gone(err, "delete pod")) return false;
        return false;
      }
    },
    async recordEvent(e) {
      // kube-scheduler names events <pod>.<hex nanoseconds>; the name only has to be unique.
      const suffix = (BigInt(e.now) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16);
      try {
        await events.createNamespacedEvent({
          namespace: e.pod.namespace,
          body: {
            apiVersion: "events.k8s.io/v1",
            kind: "Event",
            metadata: { name: `${e.pod.name}.${suffix}`.slice(0, 253), namespace: e.pod.namespace },
            eventTime: new V1MicroTime(e.now),
            reportingController: options.controller,
            reportingInstance: instance,
            action: e.action,
            reason: e.reason,
            type: e.type,
            note: e.note.slice(0, 1024),
            regarding: {
              apiVersion: "v1",
              kind: "Pod",
              namespace: e.pod.namespace,
              name: e.pod.name,
              uid: e.pod.uid,
            },
            ...(e.related === undefined
              ? {}
              : {
                  related: {
                    apiVersion: "v1",
                    kind: "Pod",
                    namespace: e.related.namespace,
                    name: e.related.name,
                    uid: e.related.uid,
                  },
                }),
          },
        });
      } catch (err) {
        throw failed("event", kubeError(`record ${e.reason} event on ${e.pod.namespace}/${e.pod.name}`, err));
      }
    },
  };
}
