// Builders for the volume filters' tests (after kube-scheduler's volumebinding test helpers makePVC,
// makePV, makePod, makeNode): plain objects and a StorageView over arrays.

import type {
  PersistentVolume,
  PersistentVolumeClaim,
  StorageClass,
  StorageView,
} from "../../coordinator/scheduler/filters/volume-types.ts";
import type { Node, NodeSelectorTerm, Pod } from "../../coordinator/scheduler/k8s-types.ts";

export const waitSC: StorageClass = {
  metadata: { name: "wait-sc" },
  volumeBindingMode: "WaitForFirstConsumer",
};
export const provisionSC: StorageClass = {
  metadata: { name: "local-path" },
  provisioner: "rancher.io/local-path",
  volumeBindingMode: "WaitForFirstConsumer",
};
export const immediateSC: StorageClass = {
  metadata: { name: "immediate-sc" },
  provisioner: "example.com/nfs",
  volumeBindingMode: "Immediate",
};

export function makePVC(
  name: string,
  storageClassName: string,
  options: {
    boundTo?: string;
    phase?: string;
    storage?: string;
    accessModes?: string[];
    annotations?: Record<string, string>;
    deleting?: boolean;
    owner?: string;
  } = {},
): PersistentVolumeClaim {
  const annotations = { ...options.annotations };
  if (options.boundTo !== undefined) annotations["pv.kubernetes.io/bind-completed"] = "yes";
  return {
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      resourceVersion: "1",
      annotations,
      ...(options.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
      ...(options.owner ? { ownerReferences: [{ uid: options.owner, kind: "Pod", controller: true }] } : {}),
    },
    spec: {
      accessModes: options.accessModes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: options.storage ?? "1Gi" } },
      storageClassName,
      ...(options.boundTo !== undefined ? { volumeName: options.boundTo } : {}),
    },
    status: { phase: options.phase ?? (options.boundTo !== undefined ? "Bound" : "Pending") },
  };
}

export const hostnameIn = (...hosts: string[]): NodeSelectorTerm => ({
  matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: hosts }],
});

export function makePV(
  name: string,
  storageClassName: string,
  options: {
    terms?: NodeSelectorTerm[];
    phase?: string;
    storage?: string;
    accessModes?: string[];
    claimRef?: { namespace: string; name: string; uid?: string };
  } = {},
): PersistentVolume {
  return {
    metadata: { name, resourceVersion: "1" },
    spec: {
      capacity: { storage: options.storage ?? "1Gi" },
      accessModes: options.accessModes ?? ["ReadWriteOnce"],
      storageClassName,
      ...(options.claimRef ? { claimRef: options.claimRef } : {}),
      ...(options.terms ? { nodeAffinity: { required: { nodeSelectorTerms: options.terms } } } : {}),
    },
    status: { phase: options.phase ?? "Available" },
  };
}

export function makeNode(name: string, labels: Record<string, string> = {}): Node {
  return {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
  };
}

export function podWithClaims(name: string, claims: readonly string[], uid = `uid-${name}`): Pod {
  return {
    metadata: { name, namespace: "default", uid },
    spec: {
      containers: [{ name: "c" }],
      volumes: claims.map((claimName, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName } })),
    },
  };
}

export function storageOf(
  claims: readonly PersistentVolumeClaim[],
  volumes: readonly PersistentVolume[] = [],
  classes: readonly StorageClass[] = [waitSC, provisionSC, immediateSC],
): StorageView {
  return {
    claim: (ns, name) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    volume: (name) => volumes.find((v) => v.metadata?.name === name),
    volumes: () => volumes,
    storageClass: (name) => classes.find((c) => c.metadata?.name === name),
  };
}
