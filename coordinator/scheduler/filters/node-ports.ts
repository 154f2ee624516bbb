// kube-scheduler NodePorts Filter: a host port the pod wants must not be in use on the node for the
// same protocol and an overlapping address (HostPortInfo.CheckConflict: an empty hostIP is 0.0.0.0,
// which overlaps every address; an empty protocol is TCP). Host ports come from the containers and
// the restartable (sidecar) init containers (util.GetHostPorts); with hostNetwork every container port
// is a host port, as the API server's defaulting makes it.
import type { Container, Pod } from "../k8s-types.ts";
import { defineFilter, type PluginContext } from "../plugins.ts";
import type { NodeInfo } from "../snapshot.ts";

export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

const BIND_ALL = "0.0.0.0";
export const NO_HOST_PORTS: readonly HostPort[] = Object.freeze([]);

export function podHostPorts(pod: Pod): readonly HostPort[] {
  const spec = pod.spec;
  if (spec === undefined) return NO_HOST_PORTS;
  const out: HostPort[] = [];
  const hostNetwork = spec.hostNetwork === true;
  const add = (containers: readonly Container[] | undefined): void => {
    for (const c of containers ?? []) {
      for (const p of c.ports ?? []) {
        const port = p.hostPort ?? (hostNetwork ? p.containerPort : undefined) ?? 0;
        if (port > 0) out.push({ ip: p.hostIP || BIND_ALL, protocol: p.protocol || "TCP", port });
      }
    }
  };
  add(spec.initContainers?.filter((c) => c.restartPolicy === "Always"));
  add(spec.containers);
  return out.length === 0 ? NO_HOST_PORTS : out;
}

/** HostPortInfo.CheckConflict against the ports already used on the node. */
export function conflicts(want: HostPort, used: readonly HostPort[]): boolean {
  for (const u of used) {
    if (u.port !== want.port || u.protocol !== want.protocol) continue;
    if (want.ip === BIND_ALL || u.ip === BIND_ALL || u.ip === want.ip) return true;
  }
  return false;
}

export interface NodePortsState {
  readonly want: readonly HostPort[];
  readonly nodes: readonly NodeInfo[];
}

/** null when the pod wants no host port (kube-scheduler's PreFilter Skip). */
export const prepareNodePorts = ({ pod, snapshot }: PluginContext): NodePortsState | null =>
  pod.hostPorts.length === 0 ? null : { want: pod.hostPorts, nodes: snapshot.nodes };

export function nodePortsAt({ want, nodes }: NodePortsState, i: number): string | null {
  const pods = (nodes[i] as NodeInfo).pods;
  for (let p = 0; p < pods.length; p++) {
    const used = (pods[p] as NodeInfo["pods"][number]).hostPorts;
    if (used.length === 0) continue;
    for (const w of want) if (conflicts(w, used)) return ERR_REASON_NODE_PORTS;
  }
  return null;
}

export const nodePorts = defineFilter({ name: "NodePorts", prepare: prepareNodePorts, at: nodePortsAt });
