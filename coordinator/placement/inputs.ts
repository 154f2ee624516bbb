// What the engine schedules on, built from what the coordinator knows. Pure.
//  - Cluster: every Kubernetes node, the non-terminated pods bound to it, and the live signals of the
//    agent on it (joined by Kubernetes node name, see ../fleet/live.ts).
//  - Standalone: one synthetic node per agent that announced its size, with allocatable from its birth
//    (cores → cpu, memory total → memory, 110 pods as the kubelet's default), its birth labels, and its
//    live signals; no pods, since standalone decisions are advisory and create nothing.

import type { LiveSignals } from "../fleet/live.ts";
import { u64 } from "../fleet/live-sample.ts";
import type { FleetState } from "../fleet/state.ts";
import type { LiveTelemetry, Node, NodeInput, Pod } from "../scheduler/index.ts";

/** A Kubernetes Node as the informer delivers it (client-node's V1Node fits). */
export interface NodeObject {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: Node["spec"];
  readonly status?: Node["status"];
}

/** A Kubernetes Pod as the informer delivers it (client-node's V1Pod fits). */
export type PodObject = Pod & {
  readonly metadata?: Pod["metadata"] & { readonly deletionTimestamp?: unknown };
  readonly spec?: Pod["spec"] & { readonly schedulerName?: string };
};

const TERMINAL: ReadonlySet<string> = new Set(["Succeeded", "Failed"]);

export const isTerminal = (pod: Pod): boolean => TERMINAL.has(pod.status?.phase ?? "");

export function clusterNodeInputs(
  nodes: readonly NodeObject[],
  pods: readonly PodObject[],
  live: ReadonlyMap<string, LiveTelemetry>,
): NodeInput[] {
  const byNode = new Map<string, Pod[]>();
  for (const pod of pods) {
    const name = pod.spec?.nodeName;
    if (!name || isTerminal(pod)) continue;
    let list = byNode.get(name);
    if (list === undefined) {
      list = [];
      byNode.set(name, list);
    }
    list.push(pod);
  }
  const inputs: NodeInput[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (!name || seen.has(name)) continue;
    seen.add(name);
    const signals = live.get(name);
    inputs.push({
      node: node as Node,
      pods: byNode.get(name) ?? [],
      ...(signals === undefined ? {} : { live: signals }),
    });
  }
  return inputs;
}

/** Pods the kubelet schedules by itself accept no more than this by default (--max-pods). */
export const STANDALONE_MAX_PODS = "110";

export function agentNodeInputs(fleet: FleetState, live: ReadonlyMap<string, LiveSignals>): NodeInput[] {
  const inputs: NodeInput[] = [];
  const seen = new Set<string>();
  for (const state of fleet.nodes.values()) {
    const name = state.birth?.k8sNodeName || state.nodeId;
    if (seen.has(name)) continue;
    const cores = state.birth?.cpu?.cores || state.latest?.cores || 0;
    const memory = state.birth?.memoryTotalBytes || u64(state.latest?.memoryTotalBytes ?? 0);
    if (cores === 0 || memory === 0n) continue; // size unknown: nothing to fit against
    seen.add(name);
    const signals = live.get(name); // keyed like `name`: k8s node name, else node id
    const allocatable = { cpu: String(cores), memory: String(memory), pods: STANDALONE_MAX_PODS };
    inputs.push({
      node: {
        metadata: {
          name,
          labels: { ...state.birth?.labels, "kubernetes.io/hostname": name },
        },
        spec: { unschedulable: false, taints: [] },
        status: { allocatable, capacity: allocatable, conditions: [{ type: "Ready", status: "True" }] },
      },
      pods: [],
      ...(signals === undefined ? {} : { live: signals }),
    });
  }
  return inputs;
}
