// The scheduler's view of the fleet, built once per informer/telemetry update like kube-scheduler's
// NodeInfo snapshot: per-node request sums, pod counts and taint reasons are computed here so a
// decision never re-sums the pods on a node.
//
// Both producers fill the same input: the Kubernetes adapter passes Node and Pod objects as they come
// from the API (plus the agent's telemetry when one runs on the node); the standalone mode passes one
// synthetic Node per agent with allocatable/capacity from telemetry ("cpu": cores, "memory": bytes,
// "pods": a limit) and the pods it placed itself.
import { type AffinityIndex, createAffinityIndex } from "./affinity-index.ts";
import { buildLabelColumn, createColumns, type LabelColumn, type NodeColumns } from "./columns.ts";
import { SnapshotError } from "./errors.ts";
import type { StorageView } from "./filters/volume-types.ts";
import type { Node, Pod, Taint } from "./k8s-types.ts";
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from "./k8s-types.ts";
import { addPodToNode, boundPodInfo, type PodInfo } from "./node-info.ts";
import { isScalarResourceName, parseResourceList, toSchedulerUnits } from "./pod-requests.ts";
import { bindTerm, type ColumnTerm, type CompiledTerm } from "./selectors.ts";
import type { SpreadSelector } from "./spread-index.ts";
import { untoleratedTaintReason } from "./taints.ts";

/** Live signals from the node's agent. Optional: a node may run no agent. */
export interface LiveTelemetry {
  readonly online: boolean;
  /** Age of the latest sample when the snapshot was taken (see SnapshotInput.takenAt); negative for a sample re-read later (live-refresh.ts). */
  readonly ageMs: number;
  /** The agent's reporting interval. */
  readonly intervalMs: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  /** Fullest filesystem. */
  readonly diskMaxPercent: number;
}

export interface NodeInput {
  readonly node: Node;
  /** Pods bound to the node. Succeeded/Failed pods are ignored. */
  readonly pods?: readonly Pod[];
  readonly live?: LiveTelemetry;
}

export interface SnapshotInput {
  readonly nodes: readonly NodeInput[];
  /**
   * When the telemetry ages were measured. If set, a decision at `now` sees each sample as
   * ageMs + (now - takenAt) old, so a snapshot reused across a burst keeps ageing correctly.
   */
  readonly takenAt?: number;
}

export interface TaintInfo extends Taint {
  /** Precomputed filter reason, so rejecting a node allocates nothing. */
  readonly reason: string;
}

/** framework.NodeInfo, flattened. Numbers mirror the exact bigints while they are safe integers. */
export interface NodeInfo {
  readonly index: number;
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly unschedulable: boolean;
  /** NoSchedule/NoExecute taints, plus the not-ready/unreachable taint the node lifecycle controller would add. */
  readonly hardTaints: readonly TaintInfo[];
  readonly softTaints: readonly Taint[];
  readonly allowedPods: number;
  readonly allocCpu: number;
  readonly allocMemory: number;
  readonly allocEphemeral: number;
  readonly allocScalars: ReadonlyMap<string, bigint>;
  /** status.capacity.cpu (allocatable when absent), milli-cores: Trimaran's denominator. */
  readonly capacityCpu: number;
  /** Replaced by `refreshLive` (live-refresh.ts) when the snapshot is reused after the node's sample aged. */
  live: LiveTelemetry | undefined;
  // Aggregates over `pods`, maintained by node-info.ts.
  reqCpu: number;
  reqMemory: number;
  reqEphemeral: number;
  nonZeroCpu: number;
  nonZeroMemory: number;
  readonly reqScalars: Map<string, bigint>;
  readonly pods: PodInfo[];
  /** Pods we placed that the cluster has not confirmed yet (a subset of `pods`). */
  readonly assumed: PodInfo[];
  /** True while every number above is an exact integer; otherwise filters use `exact`. */
  safe: boolean;
  readonly exact: {
    readonly allocCpu: bigint;
    readonly allocMemory: bigint;
    readonly allocEphemeral: bigint;
    reqCpu: bigint;
    reqMemory: bigint;
    reqEphemeral: bigint;
  };
}

export interface Snapshot {
  readonly nodes: readonly NodeInfo[];
  readonly byName: ReadonlyMap<string, NodeInfo>;
  readonly takenAt: number | undefined;
  /** Pod key → node, for every pod in the snapshot. */
  readonly podNode: Map<string, NodeInfo>;
  /** Matching-pod counts per node for each spread selector seen so far (built lazily, kept current). */
  readonly spreadIndex: Map<string, SpreadSelector>;
  /** The hot numbers of every node as typed arrays, indexed like `nodes`. */
  readonly columns: NodeColumns;
  /** Label values per key as integer ids, built the first time a key is selected on. */
  readonly labelColumns: Map<string, LabelColumn>;
  /** Existing pods' affinity terms and per-node counts of pods matching affinity selectors. */
  readonly affinityIndex: AffinityIndex;
  /** Claims, volumes and storage classes now (set by whoever decides on the snapshot); none when absent. */
  storage?: StorageView;
}

/** Binds a compiled selector term to this snapshot's label columns (see selectors.ts). */
export const bindTermToSnapshot = (snapshot: Snapshot, term: CompiledTerm): ColumnTerm =>
  bindTerm(
    term,
    (key) => labelColumn(snapshot, key),
    (name) => snapshot.byName.get(name)?.index ?? -1,
  );

export function labelColumn(snapshot: Snapshot, key: string): LabelColumn {
  let column = snapshot.labelColumns.get(key);
  if (column === undefined) {
    column = buildLabelColumn(snapshot.nodes, key);
    snapshot.labelColumns.set(key, column);
  }
  return column;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Age of a node's latest sample at `now`: the reported age plus the time since the snapshot was taken. */
export const telemetryAge = (live: LiveTelemetry, takenAt: number | undefined, now: number): number =>
  live.ageMs + (takenAt === undefined ? 0 : Math.max(0, now - takenAt));

function readinessTaint(node: Node): Taint | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready === undefined || ready.status === "True") return undefined;
  // What TaintNodesByCondition puts on the node, so the message is kube-scheduler's own.
  return { key: ready.status === "False" ? TAINT_NOT_READY : TAINT_UNREACHABLE, effect: "NoSchedule" };
}

export function buildNodeInfo(input: NodeInput, index: number): NodeInfo {
  const { node } = input;
  const name = node.metadata.name;
  const where = `node ${name} status.allocatable`;
  const allocatable = parseResourceList(node.status?.allocatable ?? node.status?.capacity, where);
  const capacity = parseResourceList(node.status?.capacity, `node ${name} status.capacity`);
  const units = (res: string): bigint => toSchedulerUnits(res, allocatable.get(res) ?? 0n);
  const allocScalars = new Map<string, bigint>();
  for (const [res, nanos] of allocatable)
    if (isScalarResourceName(res)) allocScalars.set(res, toSchedulerUnits(res, nanos));
  const taints = node.spec?.taints ?? [];
  const hard: TaintInfo[] = taints
    .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
    .map((t) => ({ ...t, reason: untoleratedTaintReason(t) }));
  const synthetic = readinessTaint(node);
  if (synthetic && !hard.some((t) => t.key === synthetic.key && t.effect === synthetic.effect)) {
    hard.push({ ...synthetic, reason: untoleratedTaintReason(synthetic) });
  }
  const allocCpu = units("cpu");
  const allocMemory = units("memory");
  const allocEphemeral = units("ephemeral-storage");
  const pods = units("pods");
  return {
    index,
    name,
    labels: new Map(Object.entries(node.metadata.labels ?? {})),
    unschedulable: node.spec?.unschedulable === true,
    hardTaints: hard,
    softTaints: taints.filter((t) => t.effect === "PreferNoSchedule"),
    allowedPods: pods > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(pods),
    allocCpu: Number(allocCpu),
    allocMemory: Number(allocMemory),
    allocEphemeral: Number(allocEphemeral),
    allocScalars,
    capacityCpu: Number(toSchedulerUnits("cpu", capacity.get("cpu") ?? allocatable.get("cpu") ?? 0n)),
    live: input.live,
    reqCpu: 0,
    reqMemory: 0,
    reqEphemeral: 0,
    nonZeroCpu: 0,
    nonZeroMemory: 0,
    reqScalars: new Map(),
    pods: [],
    assumed: [],
    safe: allocCpu <= MAX_SAFE && allocMemory <= MAX_SAFE && allocEphemeral <= MAX_SAFE,
    exact: { allocCpu, allocMemory, allocEphemeral, reqCpu: 0n, reqMemory: 0n, reqEphemeral: 0n },
  };
}

const TERMINAL_PHASES: ReadonlySet<string> = new Set(["Succeeded", "Failed"]);

/** Builds the snapshot: parses every quantity once and aggregates each node's pods. */
export function buildSnapshot(input: SnapshotInput | readonly NodeInput[]): Snapshot {
  const list = "nodes" in input ? input.nodes : input;
  const takenAt = "nodes" in input ? input.takenAt : undefined;
  const nodes: NodeInfo[] = [];
  const byName = new Map<string, NodeInfo>();
  list.forEach((entry, index) => {
    const name = entry.node?.metadata?.name;
    if (typeof name !== "string" || name.length === 0)
      throw new SnapshotError(`nodes[${index}] has no metadata.name`);
    if (byName.has(name)) throw new SnapshotError(`duplicate node ${JSON.stringify(name)}`);
    const info = buildNodeInfo(entry, index);
    nodes.push(info);
    byName.set(name, info);
  });
  const snapshot: Snapshot = {
    nodes,
    byName,
    takenAt,
    podNode: new Map(),
    spreadIndex: new Map(),
    columns: createColumns(nodes),
    labelColumns: new Map(),
    affinityIndex: createAffinityIndex(),
  };
  for (const node of nodes) {
    const pods = list[node.index]?.pods ?? [];
    pods.forEach((pod, i) => {
      if (TERMINAL_PHASES.has(pod.status?.phase ?? "")) return;
      const info = boundPodInfo(pod, `${node.name}#${i}`);
      if (snapshot.podNode.has(info.key)) throw new SnapshotError(`pod ${info.key} is bound to two nodes`);
      addPodToNode(snapshot, node, info);
    });
  }
  return snapshot;
}
