// kube-scheduler VolumeBinding (pkg/scheduler/framework/plugins/volumebinding, the volume binder's
// GetPodVolumeClaims and FindPodVolumes), pure over the pod, the snapshot's StorageView and one node:
//  - PreFilter: every claim the pod's volumes use (persistentVolumeClaim, or `<pod>-<volume>` for a generic
//    ephemeral volume, which must be controlled by the pod) exists, is not being deleted and not Lost; a
//    claim that is not bound and whose class is not WaitForFirstConsumer makes the pod unschedulable.
//  - Filter, per node: a bound claim's PersistentVolume must exist and its node affinity match the node;
//    a WaitForFirstConsumer claim already given a node (volume.kubernetes.io/selected-node) must be on it;
//    the others take the smallest matching Available volume of their class, and what is left must be
//    provisionable there (the class has a provisioner, and its allowedTopologies match the node).
// `planVolumes` gives, for the chosen node, what the bind step writes first (PreBind): the volume chosen
// for each claim (claimRef), and the claims to provision there (selected-node annotation).
import type { Pod } from "../k8s-types.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import { compareQuantities } from "../quantity.ts";
import type { NodeInfo, Snapshot } from "../snapshot.ts";
import {
  type Candidate,
  candidateOf,
  claimRequest,
  compileVolumeAffinity,
  findMatchingVolume,
  topologyMatches,
  type VolumeAffinity,
  volumeAffinityMatches,
} from "./volume-match.ts";
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  claimClass,
  EMPTY_STORAGE,
  NOT_SUPPORTED_PROVISIONER,
  type PersistentVolume,
  type PersistentVolumeClaim,
  podClaims,
  type StorageClass,
  type StorageView,
  volumeClass,
} from "./volume-types.ts";

export const VOLUME_BINDING = "VolumeBinding";
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const ERR_REASON_PV_NOT_EXIST =
  "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
export const ERR_REASON_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";

export const claimNotFound = (name: string): string => `persistentvolumeclaim "${name}" not found`;
/** Whether `reason` is claimNotFound's (VolumeRestrictions reports it too, also UnschedulableAndUnresolvable). */
export const isClaimNotFound = (reason: string): boolean =>
  reason.startsWith('persistentvolumeclaim "') && reason.endsWith('" not found');

interface BoundClaim {
  readonly claim: PersistentVolumeClaim;
  readonly pv: PersistentVolume | undefined;
  readonly affinity: VolumeAffinity;
}

interface DelayedClaim {
  readonly claim: PersistentVolumeClaim;
  readonly className: string;
  readonly storageClass: StorageClass;
}

export interface VolumeBindingState {
  readonly nodes: readonly NodeInfo[];
  readonly bound: readonly BoundClaim[];
  /** WaitForFirstConsumer claims already given a node, with that node. */
  readonly selected: ReadonlyArray<DelayedClaim & { readonly node: string }>;
  /** The other WaitForFirstConsumer claims, smallest request first (byPVCSize). */
  readonly toMatch: readonly DelayedClaim[];
  /** Volumes of each delayed claim's class (pvCache.ListPVs), compiled once per decision. */
  readonly candidates: ReadonlyMap<string, readonly Candidate[]>;
}

/** The PreFilter's verdict: a reason that rejects every node, or the state the per-node filter reads (null: no claims). */
export type VolumeBindingPrepared =
  | { readonly reason: string; readonly state?: undefined }
  | { readonly reason?: undefined; readonly state: VolumeBindingState | null };

const storageOf = (snapshot: Snapshot): StorageView => snapshot.storage ?? EMPTY_STORAGE;

/** metav1.IsControlledBy: the claim's controller owner reference names the pod's uid. */
const controlledBy = (claim: PersistentVolumeClaim, uid: string | undefined): boolean =>
  uid !== undefined &&
  uid !== "" &&
  (claim.metadata?.ownerReferences ?? []).some((o) => o.controller === true && o.uid === uid);

/** The pod's claims as kube-scheduler's PreFilter reads them; undefined `reason` when they all exist and are usable. */
export function readPodClaims(
  pod: Pod,
  storage: StorageView,
): { reason: string } | { reason?: undefined; claims: PersistentVolumeClaim[] } {
  const refs = podClaims(pod);
  const ns = pod.metadata?.namespace ?? "default";
  const claims: PersistentVolumeClaim[] = [];
  for (const ref of refs) {
    const claim = storage.claim(ns, ref.claimName);
    // kube-scheduler words a generic ephemeral volume's missing claim for what it normally is: not made yet.
    if (claim === undefined && ref.ephemeral)
      return {
        reason: `waiting for ephemeral volume controller to create the persistentvolumeclaim "${ref.claimName}"`,
      };
    if (claim === undefined) return { reason: claimNotFound(ref.claimName) };
    if (claim.metadata?.deletionTimestamp)
      return { reason: `persistentvolumeclaim "${ref.claimName}" is being deleted` };
    if (ref.ephemeral && !controlledBy(claim, pod.metadata?.uid)) {
      return {
        reason: `PVC ${ns}/${ref.claimName} was not created for pod ${ns}/${pod.metadata?.name ?? ""} (pod is not owner)`,
      };
    }
    if (claim.status?.phase === "Lost") {
      return {
        reason: `persistentvolumeclaim "${ref.claimName}" bound to non-existent persistentvolume "${claim.spec?.volumeName ?? ""}"`,
      };
    }
    claims.push(claim);
  }
  return { claims };
}

/** isPVCFullyBound: a volume name and the PV controller's bind-completed annotation. */
const fullyBound = (claim: PersistentVolumeClaim): boolean =>
  Boolean(claim.spec?.volumeName) && claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;

/** PreFilter (podHasPVCs + GetPodVolumeClaims + the unbound-immediate check). */
export function prepareVolumeBindingFor(pod: Pod, snapshot: Snapshot): VolumeBindingPrepared {
  if ((pod.spec?.volumes?.length ?? 0) === 0) return { state: null };
  const storage = storageOf(snapshot);
  const read = readPodClaims(pod, storage);
  if (read.reason !== undefined) return { reason: read.reason };
  if (read.claims.length === 0) return { state: null };
  const bound: BoundClaim[] = [];
  const selected: Array<DelayedClaim & { node: string }> = [];
  const toMatch: DelayedClaim[] = [];
  let immediate = false;
  for (const claim of read.claims) {
    if (fullyBound(claim)) {
      const pv = storage.volume(claim.spec?.volumeName ?? "");
      bound.push({ claim, pv, affinity: pv === undefined ? undefined : compileVolumeAffinity(pv) });
      continue;
    }
    // IsDelayBindingMode: no class, or a class that does not exist, is Immediate; a claim pre-bound to a
    // volume (volumeName set, binding not completed) is treated as Immediate too.
    const className = claimClass(claim);
    const storageClass = className === "" ? undefined : storage.storageClass(className);
    if (storageClass?.volumeBindingMode !== "WaitForFirstConsumer" || claim.spec?.volumeName) {
      immediate = true;
      continue;
    }
    const node = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (node !== undefined) selected.push({ claim, className, storageClass, node });
    else toMatch.push({ claim, className, storageClass });
  }
  if (immediate) return { reason: ERR_REASON_UNBOUND_IMMEDIATE };
  toMatch.sort((a, b) => compareQuantities(claimRequest(a.claim), claimRequest(b.claim)));
  const candidates = new Map<string, Candidate[]>();
  if (toMatch.length > 0) {
    const classes = new Set(toMatch.map((c) => c.className));
    for (const pv of storage.volumes()) {
      const cls = volumeClass(pv);
      if (!classes.has(cls)) continue;
      const list = candidates.get(cls);
      if (list === undefined) candidates.set(cls, [candidateOf(pv)]);
      else list.push(candidateOf(pv));
    }
  }
  return { state: { nodes: snapshot.nodes, bound, selected, toMatch, candidates } };
}

export const prepareVolumeBinding = (ctx: PluginContext): VolumeBindingPrepared =>
  prepareVolumeBindingFor(ctx.pod.pod, ctx.snapshot);

/** What the pod's claims need on one node. */
export interface VolumePlan {
  /** Filter reasons; empty when the node can serve every claim. */
  readonly reasons: readonly string[];
  /** Claims bound to an existing volume there (PreBind sets the volume's claimRef). */
  readonly bindings: ReadonlyArray<{ readonly claim: PersistentVolumeClaim; readonly pv: PersistentVolume }>;
  /** Claims to provision there (PreBind sets volume.kubernetes.io/selected-node). */
  readonly provisions: readonly PersistentVolumeClaim[];
}

const NOTHING: VolumePlan = Object.freeze({ reasons: [], bindings: [], provisions: [] });
const rejected = (...reasons: string[]): VolumePlan => ({ reasons, bindings: [], provisions: [] });

/** FindPodVolumes for node `i`: reasons in its order (node conflict, bind conflict, missing volume). */
export function planAt(s: VolumeBindingState, i: number): VolumePlan {
  const node = s.nodes[i] as NodeInfo;
  // checkBoundClaims: stops at the first bound claim whose volume is missing or elsewhere; the unbound
  // checks still run, and every reason found is reported.
  let boundOk = true;
  let volumesFound = true;
  for (const b of s.bound) {
    if (b.pv === undefined) {
      volumesFound = false;
      break;
    }
    if (!volumeAffinityMatches(b.affinity, node.labels)) {
      boundOk = false;
      break;
    }
  }
  const unbound = s.selected.length === 0 && s.toMatch.length === 0 ? NOTHING : unboundAt(s, node);
  if (boundOk && volumesFound && unbound.reasons.length === 0) return unbound;
  const reasons: string[] = [];
  if (!boundOk) reasons.push(ERR_REASON_NODE_CONFLICT);
  reasons.push(...unbound.reasons);
  if (!volumesFound) reasons.push(ERR_REASON_PV_NOT_EXIST);
  return rejected(...reasons);
}

function unboundAt(s: VolumeBindingState, node: NodeInfo): VolumePlan {
  const provisions: DelayedClaim[] = [];
  for (const c of s.selected) {
    // Fast path: a claim given to another node.
    if (c.node !== node.name) return rejected(ERR_REASON_BIND_CONFLICT);
    provisions.push(c);
  }
  const bindings: Array<{ claim: PersistentVolumeClaim; pv: PersistentVolume }> = [];
  const chosen = new Set<string>();
  for (const c of s.toMatch) {
    const pv = findMatchingVolume(c.claim, s.candidates.get(c.className) ?? [], node.labels, chosen);
    if (pv === undefined) provisions.push(c);
    else {
      chosen.add(pv.metadata?.name ?? "");
      bindings.push({ claim: c.claim, pv });
    }
  }
  // checkVolumeProvisions: what no volume matched must be provisionable on the node.
  for (const c of provisions) {
    const provisioner = c.storageClass.provisioner ?? "";
    if (provisioner === "" || provisioner === NOT_SUPPORTED_PROVISIONER)
      return rejected(ERR_REASON_BIND_CONFLICT);
    if (!topologyMatches(c.storageClass.allowedTopologies, node.labels))
      return rejected(ERR_REASON_BIND_CONFLICT);
  }
  return { reasons: [], bindings, provisions: provisions.map((c) => c.claim) };
}

export function volumeBindingAt(s: VolumeBindingState, i: number): readonly string[] | null {
  const plan = planAt(s, i);
  return plan.reasons.length === 0 ? null : plan.reasons;
}

/**
 * What binding `pod` to `node` needs written first, on the snapshot it was decided on; undefined when the
 * pod uses no claim. Throws nothing: a node the claims cannot use gives a plan with reasons.
 */
export function planVolumes(snapshot: Snapshot, pod: Pod, node: string): VolumePlan | undefined {
  const prepared = prepareVolumeBindingFor(pod, snapshot);
  if (prepared.reason !== undefined) return rejected(prepared.reason);
  const info = snapshot.byName.get(node);
  if (prepared.state === null) return undefined;
  if (info === undefined) return rejected(`node "${node}" not found`);
  return planAt(prepared.state, info.index);
}

/** The filter's state: a PreFilter reason that rejects every node, or what the per-node check reads. */
export type VolumeBindingFilterState = string | VolumeBindingState;

export const volumeBinding = defineFilter<VolumeBindingFilterState>({
  name: VOLUME_BINDING,
  prepare(ctx) {
    const prepared = prepareVolumeBinding(ctx);
    return prepared.reason ?? prepared.state;
  },
  at: (s, i) => (typeof s === "string" ? s : volumeBindingAt(s, i)),
});
