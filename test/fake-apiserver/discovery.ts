// Discovery documents (/version, /api, /api/v1, /apis, /apis/{group}[/{version}]) in the unaggregated
// JSON form client-node's KubernetesObjectApi reads to map kinds to resources.
import { METRICS_GROUP, METRICS_VERSION } from "./metrics.ts";
import { apiVersionOf, RESOURCES, type ResourceDef } from "./resources.ts";

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export const DEFAULT_VERSION: VersionInfo = {
  major: "1",
  minor: "33",
  gitVersion: "v1.33.5+k3s1",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2025-09-30T00:00:00Z",
  goVersion: "go1.24.6",
  compiler: "gc",
  platform: "linux/amd64",
};

interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}

function resourceEntries(def: ResourceDef): ApiResource[] {
  const main: ApiResource = {
    name: def.resource,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
  };
  if (def.shortNames.length) main.shortNames = def.shortNames;
  if (def.categories) main.categories = def.categories;
  const entries = [main];
  if (def.hasStatus) {
    entries.push({
      name: `${def.resource}/status`,
      singularName: "",
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: ["get", "patch", "update"],
    });
  }
  if (def.resource === "pods" && def.group === "") {
    entries.push({
      name: "pods/binding",
      singularName: "",
      namespaced: true,
      kind: "Binding",
      verbs: ["create"],
    });
  }
  return entries;
}

export function coreVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** APIResourceList for a group/version ("" group = core), or undefined when nothing is served there. */
export function resourceList(group: string, version: string, metricsAvailable: boolean): unknown {
  const groupVersion = group ? `${group}/${version}` : version;
  if (group === METRICS_GROUP) {
    if (!metricsAvailable || version !== METRICS_VERSION) return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion,
      resources: [
        { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
        { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
      ],
    };
  }
  const defs = RESOURCES.filter((d) => apiVersionOf(d) === groupVersion);
  if (defs.length === 0) return undefined;
  const resources = defs.flatMap(resourceEntries);
  if (!group) {
    resources.unshift({
      name: "bindings",
      singularName: "binding",
      namespaced: true,
      kind: "Binding",
      verbs: ["create"],
    });
  }
  return { kind: "APIResourceList", ...(group ? { apiVersion: "v1" } : {}), groupVersion, resources };
}

function groupEntry(name: string, version: string): unknown {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

export function groupList(metricsAvailable: boolean): unknown {
  const groups = [groupEntry("events.k8s.io", "v1")];
  if (metricsAvailable) groups.push(groupEntry(METRICS_GROUP, METRICS_VERSION));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

export function group(name: string, metricsAvailable: boolean): unknown {
  if (name === "events.k8s.io")
    return { kind: "APIGroup", apiVersion: "v1", ...(groupEntry(name, "v1") as object) };
  if (name === METRICS_GROUP && metricsAvailable) {
    return { kind: "APIGroup", apiVersion: "v1", ...(groupEntry(name, METRICS_VERSION) as object) };
  }
  return undefined;
}
