// What a coordinator that may lose leadership at any moment hands to its scheduling part: Kubernetes
// writes and schedule replies that check, at the last moment, that this instance still acts. A decision in
// flight when leadership is lost neither creates nor binds a pod, and is not answered: the client's retry
// (same request id) reaches the new leader, which finds any pod already created by its annotation.
import type { ScheduleDecision } from "../../proto/index.ts";
import { KubeRequestError } from "../placement/errors.ts";
import type { KubeActions } from "../placement/kube.ts";
import type { SchedulingLink } from "../placement/service.ts";

const notLeader = (operation: string) =>
  new KubeRequestError(operation, { message: "this coordinator is no longer the leader" });

export function gateKubeActions(kube: KubeActions, acting: () => boolean): KubeActions {
  return {
    createPod: (pod) => (acting() ? kube.createPod(pod) : Promise.reject(notLeader("create pod"))),
    readPod: (namespace, name) => kube.readPod(namespace, name),
    bind: (pod, node) => (acting() ? kube.bind(pod, node) : Promise.reject(notLeader("bind"))),
    recordEvent: (event) => (acting() ? kube.recordEvent(event) : Promise.resolve()),
    ...(kube.markUnschedulable
      ? {
          markUnschedulable: (pod, message, now, transition) =>
            acting()
              ? (kube.markUnschedulable?.(pod, message, now, transition) ?? Promise.resolve())
              : Promise.resolve(),
        }
      : {}),
    // VolumeBinding's PreBind writes, like the binding they precede.
    ...(kube.selectNode
      ? {
          selectNode: (claim, node) =>
            acting()
              ? (kube.selectNode?.(claim, node) ?? Promise.resolve())
              : Promise.reject(notLeader("annotate claim")),
        }
      : {}),
    ...(kube.bindVolume
      ? {
          bindVolume: (pv, claim) =>
            acting()
              ? (kube.bindVolume?.(pv, claim) ?? Promise.resolve())
              : Promise.reject(notLeader("bind volume")),
        }
      : {}),
    // Preemption: listing is a read; evicting and nominating are writes only the leader makes.
    ...(kube.listPdbs ? { listPdbs: () => kube.listPdbs?.() ?? Promise.resolve([]) } : {}),
    ...(kube.nominate
      ? {
          nominate: (pod, node) =>
            acting()
              ? (kube.nominate?.(pod, node) ?? Promise.resolve())
              : Promise.reject(notLeader("set nominatedNodeName")),
        }
      : {}),
    ...(kube.evict
      ? {
          evict: (victim, message, now) =>
            acting()
              ? (kube.evict?.(victim, message, now) ?? Promise.resolve(false))
              : Promise.reject(notLeader("evict")),
        }
      : {}),
  };
}

export function gateLink(link: SchedulingLink, acting: () => boolean): SchedulingLink {
  return {
    get connected() {
      return link.connected;
    },
    subscribe: (filters) => link.subscribe(filters),
    onMessage: (handler) =>
      link.onMessage((topic, payload, retained) => acting() && handler(topic, payload, retained)),
    publish: (kind: "scheduleDecision", topic: string, message: ScheduleDecision) =>
      acting() ? link.publish(kind, topic, message) : Promise.resolve(),
    on: (event, listener) => link.on(event, listener),
    off: (event, listener) => link.off(event, listener),
  };
}
