// The incoming pod, parsed once per decision into what the filters and scores read (kube-scheduler's
// PreFilter/PreScore state): requests as numbers, compiled selector terms, tolerations by effect.
import type { SchedulerConfig } from "./config.ts";
import { type HostPort, podHostPorts } from "./filters/node-ports.ts";
import type { Pod, Toleration } from "./k8s-types.ts";
import { TAINT_UNSCHEDULABLE } from "./k8s-types.ts";
import { podKey } from "./node-info.ts";
import { compilePodAffinity, type PodAffinityInfo } from "./pod-affinity.ts";
import { type PodResources, podResources } from "./pod-requests.ts";
import { predictCpuMilli } from "./scores/live-load.ts";
import { type CompiledTerm, compileTerm, isEmptyTerm } from "./selectors.ts";
import { tolerationsTolerate } from "./taints.ts";
import { compileSpreadConstraints, type SpreadConstraint } from "./topology-spread.ts";

export interface CompiledPod {
  readonly pod: Pod;
  /** namespace/name (or uid) for messages; undefined for an anonymous request. */
  readonly key: string | undefined;
  readonly namespace: string;
  readonly resources: PodResources;
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeral: number;
  readonly nonZeroCpu: number;
  readonly nonZeroMemory: number;
  /** All request numbers are exact integers. */
  readonly safe: boolean;
  /** Fit's early exit: the pod requests no cpu, memory, ephemeral storage or scalar resource. */
  readonly requestsNothing: boolean;
  readonly tolerations: readonly Toleration[];
  readonly toleratesUnschedulable: boolean;
  /** Tolerations that count for PreferNoSchedule scoring (effect empty or PreferNoSchedule). */
  readonly preferTolerations: readonly Toleration[];
  readonly nodeName: string | undefined;
  readonly nodeSelector: ReadonlyArray<readonly [string, string]>;
  /** Compiled required terms (empty terms dropped: they match nothing); undefined without required affinity. */
  readonly requiredTerms: readonly CompiledTerm[] | undefined;
  /** NodeAffinity PreFilter: the only node names matchFields metadata.name allows, if every term pins names. */
  readonly nodeNames: ReadonlySet<string> | undefined;
  readonly preferredTerms:
    | ReadonlyArray<{ readonly term: CompiledTerm; readonly weight: number }>
    | undefined;
  /** Spread selector: the pod's labels under config.spread.labelKeys, sorted by key. */
  readonly spreadEntries: ReadonlyArray<readonly [string, string]>;
  readonly predictedCpu: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Host ports wanted (NodePorts). */
  readonly hostPorts: readonly HostPort[];
  /** Pod (anti-)affinity terms; undefined without any. */
  readonly affinity: PodAffinityInfo | undefined;
  /** spec.topologySpreadConstraints (PodTopologySpread); empty without any. */
  readonly spreadConstraints: readonly SpreadConstraint[];
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// node_affinity.go PreFilter: a term pins nodes when its matchFields has metadata.name In; the terms
// are ORed, so names only restrict the candidates when every term pins some.
function pinnedNodeNames(
  terms: ReadonlyArray<{
    matchFields?: ReadonlyArray<{ key: string; operator: string; values?: readonly string[] }>;
  }>,
): Set<string> | undefined {
  if (terms.length === 0) return undefined;
  let all: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== "metadata.name" || r.operator !== "In") continue;
      const s = new Set(r.values ?? []);
      termNames = termNames === undefined ? s : new Set([...termNames].filter((n) => s.has(n)));
    }
    if (termNames === undefined) return undefined;
    all = new Set([...(all ?? []), ...termNames]);
  }
  return all;
}

export function compilePod(pod: Pod, config: SchedulerConfig): CompiledPod {
  const spec = pod.spec ?? {};
  const resources = podResources(pod);
  const tolerations = spec.tolerations ?? [];
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const preferred = spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  const labels = pod.metadata?.labels ?? {};
  const spreadEntries = config.spread.labelKeys
    .filter((k) => labels[k] !== undefined)
    .sort()
    .map((k) => [k, labels[k] as string] as const);
  const r = resources;
  return {
    pod,
    key: podKey(pod),
    namespace: pod.metadata?.namespace ?? "default",
    resources,
    cpu: Number(r.cpu),
    memory: Number(r.memory),
    ephemeral: Number(r.ephemeralStorage),
    nonZeroCpu: Number(r.nonZeroCpu),
    nonZeroMemory: Number(r.nonZeroMemory),
    safe: r.cpu <= MAX_SAFE && r.memory <= MAX_SAFE && r.ephemeralStorage <= MAX_SAFE,
    requestsNothing: r.cpu === 0n && r.memory === 0n && r.ephemeralStorage === 0n && r.scalars.size === 0,
    tolerations,
    toleratesUnschedulable: tolerationsTolerate(tolerations, {
      key: TAINT_UNSCHEDULABLE,
      effect: "NoSchedule",
    }),
    preferTolerations: tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule"),
    nodeName: spec.nodeName || undefined,
    nodeSelector: Object.entries(spec.nodeSelector ?? {}),
    requiredTerms:
      required === undefined
        ? undefined
        : required.nodeSelectorTerms.filter((t) => !isEmptyTerm(t)).map(compileTerm),
    nodeNames: required === undefined ? undefined : pinnedNodeNames(required.nodeSelectorTerms),
    // Zero-weight and empty terms are dropped (nodeaffinity.NewPreferredSchedulingTerms); so are invalid
    // ones, where kube-scheduler would fail the whole scheduling cycle with an error instead.
    preferredTerms:
      preferred === undefined
        ? undefined
        : preferred
            .filter((p) => p.weight !== 0 && !isEmptyTerm(p.preference))
            .map((p) => ({ term: compileTerm(p.preference), weight: p.weight }))
            .filter((p) => p.term.valid),
    spreadEntries,
    predictedCpu: predictCpuMilli(pod, config.liveLoad),
    labels,
    hostPorts: podHostPorts(pod),
    affinity: compilePodAffinity(pod),
    spreadConstraints: compileSpreadConstraints(pod),
  };
}
