// Builders for the engine's tests and benchmark, in the spirit of kube-scheduler's st.MakeNode() /
// st.MakePod(): short to write, Kubernetes-shaped output. Not used by the engine itself.
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from "../../coordinator/scheduler/config.ts";
import type {
  Affinity,
  Container,
  Node,
  Pod,
  Taint,
  Toleration,
} from "../../coordinator/scheduler/k8s-types.ts";
import type { FilterPlugin, FilterResult, ScorePlugin } from "../../coordinator/scheduler/plugins.ts";
import { compilePod } from "../../coordinator/scheduler/pod.ts";
import {
  buildSnapshot,
  type NodeInfo,
  type NodeInput,
  type Snapshot,
} from "../../coordinator/scheduler/snapshot.ts";

export interface NodeOptions {
  readonly allocatable?: Record<string, string>;
  readonly capacity?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly taints?: readonly Taint[];
  readonly unschedulable?: boolean;
  /** Ready condition status; omitted means no conditions are reported. */
  readonly ready?: "True" | "False" | "Unknown";
}

export function makeNode(name: string, o: NodeOptions = {}): Node {
  return {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: { unschedulable: o.unschedulable ?? false, taints: o.taints ?? [] },
    status: {
      allocatable: o.allocatable ?? { cpu: "4", memory: "8Gi", pods: "110" },
      ...(o.capacity ? { capacity: o.capacity } : {}),
      ...(o.ready ? { conditions: [{ type: "Ready", status: o.ready }] } : {}),
    },
  };
}

export interface PodOptions {
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Record<string, string>;
  /** One entry per container: its requests. */
  readonly requests?: ReadonlyArray<Record<string, string>>;
  readonly limits?: ReadonlyArray<Record<string, string> | undefined>;
  readonly containers?: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly overhead?: Record<string, string>;
  readonly tolerations?: readonly Toleration[];
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: Affinity;
  readonly nodeName?: string;
  readonly phase?: string;
}

export function makePod(name: string | undefined, o: PodOptions = {}): Pod {
  const containers: Container[] = o.containers
    ? [...o.containers]
    : (o.requests ?? []).map((requests, i) => {
        const limits = o.limits?.[i];
        return { name: `c${i}`, resources: limits ? { requests, limits } : { requests } };
      });
  return {
    metadata: {
      ...(name === undefined ? {} : { name }),
      namespace: o.namespace ?? "default",
      ...(o.uid ? { uid: o.uid } : {}),
      labels: o.labels ?? {},
    },
    spec: {
      containers,
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      ...(o.overhead ? { overhead: o.overhead } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    },
    ...(o.phase ? { status: { phase: o.phase } } : {}),
  };
}

/** Node allocatable in kube-scheduler test style: cpu/memory as given, plenty of pods. */
export const capacity = (
  cpu: string,
  memory: string,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  cpu,
  memory,
  pods: "110",
  ...extra,
});

/** Runs one filter plugin on one node, as kube-scheduler's plugin tests do. */
export function runFilter(
  plugin: FilterPlugin,
  input: NodeInput,
  pod: Pod,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
  now = 0,
): FilterResult {
  const snapshot = buildSnapshot([input]);
  const ctx = { snapshot, pod: compilePod(pod, config), config, now };
  const viaCheck = plugin.check(snapshot.nodes[0] as NodeInfo, ctx);
  // The batch form must agree with the per-node check.
  let rejected: FilterResult = null;
  const kept = plugin.filterAll(Int32Array.of(0), 1, ctx, (_i, reasons) => {
    rejected = reasons;
  });
  if ((kept === 1) !== (viaCheck === null) || JSON.stringify(rejected) !== JSON.stringify(viaCheck)) {
    throw new Error(`${plugin.name}: filterAll disagrees with check`);
  }
  return viaCheck;
}

/** Runs PreScore, Score on every node and NormalizeScore of one plugin; undefined when the plugin skips. */
export function runScore(
  plugin: ScorePlugin,
  inputs: readonly NodeInput[] | Snapshot,
  pod: Pod,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
  now = 0,
): number[] | undefined {
  const snapshot = "nodes" in inputs ? inputs : buildSnapshot(inputs);
  const ctx = { snapshot, pod: compilePod(pod, config), config, now };
  const all = Int32Array.from(snapshot.nodes, (n) => n.index);
  const scores = new Float64Array(all.length);
  if (!plugin.scoreAll(all, all.length, scores, ctx)) return undefined;
  plugin.normalize?.(scores, scores.length);
  return [...scores];
}
