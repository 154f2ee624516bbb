// Test fixtures that look like what a K3s cluster really holds: a Node as the kubelet registers it and the
// node lifecycle controller taints it, and a Pod manifest as a client would submit it.
import type { INode } from "kubernetes-models/v1/Node";
import type { IPod } from "kubernetes-models/v1/Pod";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface NodeSpecInput {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  /** Allocatable overrides; by default allocatable = capacity. */
  allocatable?: Partial<Record<"cpu" | "memory" | "pods" | "ephemeral-storage", string>>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  ready?: boolean;
  /** Add the taints the node controllers add for `ready: false` and `unschedulable: true`. Default true. */
  controllerTaints?: boolean;
  internalIP?: string;
  arch?: string;
  kubeletVersion?: string;
  /** Timestamps for conditions and taints; default now. */
  now?: Date;
}

const rfc3339 = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

function condition(type: string, status: string, reason: string, message: string, at: string) {
  return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at };
}

export function makeNode(input: NodeSpecInput): INode {
  const at = rfc3339(input.now ?? new Date());
  const ready = input.ready ?? true;
  const arch = input.arch ?? "amd64";
  const capacity = {
    cpu: input.cpu ?? "4",
    memory: input.memory ?? "8Gi",
    pods: input.pods ?? "110",
    "ephemeral-storage": input.ephemeralStorage ?? "61202244Ki",
  };
  const taints: Array<Taint & { timeAdded?: string }> = [...(input.taints ?? [])];
  if (input.controllerTaints ?? true) {
    if (!ready) {
      taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" });
      taints.push({ key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: at });
    }
    if (input.unschedulable)
      taints.push({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: at });
  }
  const spec: NonNullable<INode["spec"]> = {
    podCIDR: "10.42.0.0/24",
    podCIDRs: ["10.42.0.0/24"],
    providerID: `k3s://${input.name}`,
  };
  if (taints.length) spec.taints = taints;
  if (input.unschedulable) spec.unschedulable = true;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: input.name,
      labels: {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": input.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
        ...input.labels,
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec,
    status: {
      capacity,
      allocatable: { ...capacity, ...input.allocatable },
      conditions: [
        condition(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
          at,
        ),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", at),
        condition(
          "PIDPressure",
          "False",
          "KubeletHasSufficientPID",
          "kubelet has sufficient PID available",
          at,
        ),
        ready
          ? condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", at)
          : condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", at),
      ],
      addresses: [
        { type: "InternalIP", address: input.internalIP ?? "10.0.0.10" },
        { type: "Hostname", address: input.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: arch,
        bootID: "00000000-0000-0000-0000-000000000000",
        containerRuntimeVersion: "containerd://2.1.4-k3s1",
        kernelVersion: "6.1.0-k3s",
        kubeProxyVersion: input.kubeletVersion ?? "v1.33.5+k3s1",
        kubeletVersion: input.kubeletVersion ?? "v1.33.5+k3s1",
        machineID: "0000000000000000000000000000000",
        operatingSystem: "linux",
        osImage: "Debian GNU/Linux 13 (trixie)",
        systemUUID: "00000000-0000-0000-0000-000000000000",
      },
    },
  };
}

export interface PodSpecInput {
  name?: string;
  generateName?: string;
  namespace?: string;
  image?: string;
  containerName?: string;
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  schedulerName?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: NonNullable<IPod["spec"]>["tolerations"];
  affinity?: NonNullable<IPod["spec"]>["affinity"];
  priorityClassName?: string;
}

/** A pod manifest as a client submits it (no status, no server-populated metadata). */
export function makePod(input: PodSpecInput = {}): IPod {
  const resources: Record<string, Record<string, string>> = {};
  if (input.requests) resources.requests = { ...input.requests } as Record<string, string>;
  if (input.limits) resources.limits = { ...input.limits } as Record<string, string>;
  const spec: NonNullable<IPod["spec"]> = {
    containers: [
      {
        name: input.containerName ?? "main",
        image: input.image ?? "registry.k8s.io/pause:3.10",
        ...(Object.keys(resources).length ? { resources } : {}),
      },
    ],
  };
  if (input.schedulerName) spec.schedulerName = input.schedulerName;
  if (input.nodeName) spec.nodeName = input.nodeName;
  if (input.nodeSelector) spec.nodeSelector = input.nodeSelector;
  if (input.tolerations) spec.tolerations = input.tolerations;
  if (input.affinity) spec.affinity = input.affinity;
  if (input.priorityClassName) spec.priorityClassName = input.priorityClassName;
  const metadata: NonNullable<IPod["metadata"]> = { namespace: input.namespace ?? "default" };
  if (input.name) metadata.name = input.name;
  else metadata.generateName = input.generateName ?? "pod-";
  if (input.labels) metadata.labels = input.labels;
  if (input.annotations) metadata.annotations = input.annotations;
  return { apiVersion: "v1", kind: "Pod", metadata, spec };
}
