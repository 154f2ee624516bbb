// Kubernetes-shaped plain types: the subset of core/v1 Pod and Node the scheduler reads, with
// quantities as strings exactly as they appear in manifests. The Kubernetes adapter can pass
// client-node objects straight through (they are structurally compatible); the standalone mode fills
// the same shapes from agent telemetry.

/** core/v1 ResourceList: resource name → quantity string ("500m", "1Gi"). */
export type ResourceList = Readonly<Record<string, string>>;

export interface ResourceRequirements {
  readonly requests?: ResourceList;
  readonly limits?: ResourceList;
}

/** core/v1 ContainerPort: only hostPort > 0 matters to scheduling (NodePorts). */
export interface ContainerPort {
  readonly containerPort?: number;
  readonly hostPort?: number;
  /** TCP (default), UDP or SCTP. */
  readonly protocol?: string;
  /** Empty means every address (0.0.0.0). */
  readonly hostIP?: string;
}

export interface Container {
  readonly name?: string;
  readonly resources?: ResourceRequirements;
  readonly ports?: readonly ContainerPort[];
  /** "Always" on an init container makes it a restartable (sidecar) container. */
  readonly restartPolicy?: string;
}

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect | string;
}

export interface Toleration {
  readonly key?: string;
  /** "Equal" (default when empty) or "Exists". */
  readonly operator?: string;
  readonly value?: string;
  /** Empty means every effect. */
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  readonly key: string;
  /** In, NotIn, Exists, DoesNotExist, Gt, Lt. */
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly NodeSelectorRequirement[];
  /** Only metadata.name is a node field. */
  readonly matchFields?: readonly NodeSelectorRequirement[];
}

export interface PreferredSchedulingTerm {
  readonly weight: number;
  readonly preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: {
    readonly nodeSelectorTerms: readonly NodeSelectorTerm[];
  };
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly PreferredSchedulingTerm[];
}

/** metav1.LabelSelectorRequirement: In, NotIn, Exists, DoesNotExist. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

/** metav1.LabelSelector: a null selector matches nothing, an empty one everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface PodAffinityTerm {
  readonly labelSelector?: LabelSelector | null;
  readonly namespaces?: readonly string[];
  readonly namespaceSelector?: LabelSelector | null;
  readonly topologyKey: string;
  readonly matchLabelKeys?: readonly string[];
  readonly mismatchLabelKeys?: readonly string[];
}

export interface WeightedPodAffinityTerm {
  readonly weight: number;
  readonly podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly PodAffinityTerm[];
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly WeightedPodAffinityTerm[];
}

export interface Affinity {
  readonly nodeAffinity?: NodeAffinity;
  readonly podAffinity?: PodAffinity;
  readonly podAntiAffinity?: PodAffinity;
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Set while the pod is being deleted (a string from JSON, a Date from client-node). */
  readonly deletionTimestamp?: string | Date;
  /** Orders the queue among pods of equal priority (PrioritySort). */
  readonly creationTimestamp?: string | Date;
}

export interface TopologySpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  /** DoNotSchedule (filter) or ScheduleAnyway (score). */
  readonly whenUnsatisfiable: string;
  readonly labelSelector?: LabelSelector | null;
  readonly minDomains?: number | null;
  /** Honor (default) or Ignore. */
  readonly nodeAffinityPolicy?: string | null;
  /** Ignore (default) or Honor. */
  readonly nodeTaintsPolicy?: string | null;
  readonly matchLabelKeys?: readonly string[] | null;
}

export interface PodSpec {
  readonly topologySpreadConstraints?: readonly TopologySpreadConstraint[];
  readonly containers?: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly overhead?: ResourceList;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly affinity?: Affinity;
  readonly tolerations?: readonly Toleration[];
  /** Set when the pod already names its node (kube-scheduler's NodeName filter). */
  readonly nodeName?: string;
  /** With host networking every container port is a host port. */
  readonly hostNetwork?: boolean;
  /** Volume sources, judged by unsupported.ts. */
  readonly volumes?: readonly object[];
  /** Resolved from priorityClassName by admission; absent means 0 (PrioritySort, DefaultPreemption). */
  readonly priority?: number | null;
  /** PreemptLowerPriority (default) or Never. */
  readonly preemptionPolicy?: string | null;
}

export interface Pod {
  readonly metadata?: ObjectMeta;
  readonly spec?: PodSpec;
  /** Succeeded and Failed pods no longer hold resources and are left out of a node's totals. */
  readonly status?: {
    readonly phase?: string;
    /** When the kubelet started the pod; orders victims of equal priority (a string from JSON, a Date from client-node). */
    readonly startTime?: string | Date;
    /** The node a preemption freed for this pod. */
    readonly nominatedNodeName?: string;
  };
}

export interface NodeCondition {
  readonly type: string;
  /** "True", "False" or "Unknown". */
  readonly status: string;
}

export interface Node {
  readonly metadata: ObjectMeta & { readonly name: string };
  readonly spec?: {
    readonly unschedulable?: boolean;
    readonly taints?: readonly Taint[];
  };
  readonly status?: {
    readonly allocatable?: ResourceList;
    readonly capacity?: ResourceList;
    readonly conditions?: readonly NodeCondition[];
  };
}

/** Well-known names the scheduler reads. */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
