// The elector's Lease API on a real cluster: coordination.k8s.io/v1 Leases through client-node, with the
// resourceVersion as the precondition of every update (a 409 becomes LeaseConflictError, a 404 on read
// means "no Lease yet"). Failures are counted through `onError` like the other Kubernetes calls.
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { kubeError } from "../placement/kube-error.ts";
import { type LeaseClient, LeaseConflictError, type LeaseRecord, type StoredLease } from "./elector.ts";

export interface KubeLeaseClientOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  onError?: (operation: string, code: string) => void;
}

function toStored(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: spec.holderIdentity ?? "",
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTimeMs: spec.acquireTime ? new Date(spec.acquireTime).getTime() : 0,
      renewTimeMs: spec.renewTime ? new Date(spec.renewTime).getTime() : 0,
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}

function toLease(name: string, namespace: string, record: LeaseRecord, resourceVersion?: string): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: new V1MicroTime(record.acquireTimeMs),
      renewTime: new V1MicroTime(record.renewTimeMs),
      leaseTransitions: record.leaseTransitions,
    },
  };
}

export function createKubeLeaseClient({ kc, namespace, name, onError }: KubeLeaseClientOptions): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const fail = (operation: string, err: unknown): Error => {
    const error = kubeError(`${operation} lease ${namespace}/${name}`, err);
    if (error.status === 409) return new LeaseConflictError(error.message, { cause: error });
    onError?.(`${operation}_lease`, error.status === undefined ? "error" : String(error.status));
    return error;
  };
  return {
    async get() {
      try {
        return toStored(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        const error = kubeError(`read lease ${namespace}/${name}`, err);
        if (error.status === 404) return undefined;
        throw fail("read", err);
      }
    },
    async create(record) {
      try {
        return toStored(
          await api.createNamespacedLease({ namespace, body: toLease(name, namespace, record) }),
        );
      } catch (err) {
        throw fail("create", err);
      }
    },
    async update(record, resourceVersion) {
      try {
        const body = toLease(name, namespace, record, resourceVersion);
        return toStored(await api.replaceNamespacedLease({ name, namespace, body }));
      } catch (err) {
        throw fail("update", err);
      }
    },
  };
}
