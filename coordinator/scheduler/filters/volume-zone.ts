// kube-scheduler VolumeZone (pkg/scheduler/framework/plugins/volumezone): the volumes bound to the pod's
// claims that carry zone/region labels (GA or beta keys; a value may list several zones joined by "__")
// only fit nodes with a matching label. A node with no zone or region label at all passes (as upstream);
// a beta key on the volume is also matched against the node's GA key. PreFilter: a bound claim whose
// volume does not exist makes the pod unschedulable (`persistentvolume "x" not found`).
import type { Pod } from "../k8s-types.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import type { NodeInfo, Snapshot } from "../snapshot.ts";
import { EMPTY_STORAGE } from "./volume-types.ts";

export const VOLUME_ZONE = "VolumeZone";
export const ERR_REASON_ZONE_CONFLICT = "node(s) had no available volume zone";

const ZONE = "topology.kubernetes.io/zone";
const REGION = "topology.kubernetes.io/region";
const BETA_ZONE = "failure-domain.beta.kubernetes.io/zone";
const BETA_REGION = "failure-domain.beta.kubernetes.io/region";
const TOPOLOGY_KEYS = [BETA_ZONE, BETA_REGION, ZONE, REGION];
const TO_GA: Readonly<Record<string, string>> = { [BETA_ZONE]: ZONE, [BETA_REGION]: REGION };

interface Topology {
  readonly key: string;
  readonly values: ReadonlySet<string>;
}

export interface VolumeZoneState {
  readonly nodes: readonly NodeInfo[];
  readonly topologies: readonly Topology[];
}

export type VolumeZonePrepared =
  | { readonly reason: string; readonly state?: undefined }
  | { readonly reason?: undefined; readonly state: VolumeZoneState | null };

const SKIP: VolumeZonePrepared = Object.freeze({ state: null });

/** PreFilter (getPVbyPod): topology labels of the volumes bound to the pod's persistentVolumeClaim volumes. */
export function prepareVolumeZoneFor(pod: Pod, snapshot: Snapshot): VolumeZonePrepared {
  const volumes = pod.spec?.volumes;
  if (volumes === undefined || volumes.length === 0) return SKIP;
  const storage = snapshot.storage ?? EMPTY_STORAGE;
  const ns = pod.metadata?.namespace ?? "default";
  const topologies: Topology[] = [];
  for (const v of volumes as ReadonlyArray<{ persistentVolumeClaim?: { claimName?: string } | null }>) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name === undefined) continue;
    const claim = storage.claim(ns, name);
    if (claim === undefined) return { reason: `persistentvolumeclaim "${name}" not found` };
    const pvName = claim.spec?.volumeName ?? "";
    if (pvName === "") continue; // unbound: VolumeBinding's PreFilter has judged it
    const pv = storage.volume(pvName);
    if (pv === undefined) return { reason: `persistentvolume "${pvName}" not found` };
    const labels = pv.metadata?.labels ?? {};
    for (const key of TOPOLOGY_KEYS) {
      const value = labels[key];
      if (value !== undefined) topologies.push({ key, values: new Set(value.split("__")) });
    }
  }
  return topologies.length === 0 ? SKIP : { state: { nodes: snapshot.nodes, topologies } };
}

export const prepareVolumeZone = (ctx: PluginContext): VolumeZonePrepared =>
  prepareVolumeZoneFor(ctx.pod.pod, ctx.snapshot);

export function volumeZoneAt(s: VolumeZoneState, i: number): string | null {
  const labels = (s.nodes[i] as NodeInfo).labels;
  if (!TOPOLOGY_KEYS.some((k) => labels.has(k))) return null;
  for (const t of s.topologies) {
    let value = labels.get(t.key);
    if (value === undefined && TO_GA[t.key] !== undefined) value = labels.get(TO_GA[t.key] as string);
    if (value === undefined || !t.values.has(value)) return ERR_REASON_ZONE_CONFLICT;
  }
  return null;
}

export const volumeZone = defineFilter<string | VolumeZoneState>({
  name: VOLUME_ZONE,
  prepare(ctx) {
    const prepared = prepareVolumeZone(ctx);
    return prepared.reason ?? prepared.state;
  },
  at: (s, i) => (typeof s === "string" ? s : volumeZoneAt(s, i)),
});
