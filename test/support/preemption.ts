// Builders for the preemption tests: pods with a priority, a start time and a node, and snapshots of
// nodes sized in cpu only, in the spirit of kube-scheduler's st.MakePod().Priority().StartTime().
import type { Node, Pod } from "../../coordinator/scheduler/k8s-types.ts";
import { buildSnapshot, type Snapshot } from "../../coordinator/scheduler/snapshot.ts";
import { makeNode } from "./scheduler.ts";

export interface PrioPodOptions {
  readonly cpu?: string;
  readonly priority?: number;
  /** status.startTime in ms since the epoch. */
  readonly start?: number;
  readonly labels?: Record<string, string>;
  readonly node?: string;
  readonly namespace?: string;
  readonly preemptionPolicy?: string;
  readonly nominated?: string;
  readonly terminating?: boolean;
}

export function prioPod(name: string, o: PrioPodOptions = {}): Pod {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      ...(o.terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      containers: [{ name: "c", resources: { requests: { cpu: o.cpu ?? "1" } } }],
      ...(o.priority === undefined ? {} : { priority: o.priority }),
      ...(o.preemptionPolicy ? { preemptionPolicy: o.preemptionPolicy } : {}),
      ...(o.node ? { nodeName: o.node } : {}),
    },
    status: {
      phase: o.node ? "Running" : "Pending",
      ...(o.start === undefined ? {} : { startTime: new Date(o.start).toISOString() }),
      ...(o.nominated ? { nominatedNodeName: o.nominated } : {}),
    },
  };
}

/** Nodes of `cpu` cores each (8Gi, 110 pods), with the pods whose `node` names them. */
export function cpuSnapshot(
  nodes: Record<string, string>,
  pods: readonly Pod[],
  extra: Partial<Node> = {},
): Snapshot {
  return buildSnapshot(
    Object.entries(nodes).map(([name, cpu]) => ({
      node: { ...makeNode(name, { allocatable: { cpu, memory: "8Gi", pods: "110" } }), ...extra },
      pods: pods.filter((p) => p.spec?.nodeName === name),
    })),
  );
}
