// Where the coordinator finds its cluster: `--kubeconfig`, else the in-cluster service account, else
// `KUBECONFIG`, else `~/.kube/config`, else K3s's `/etc/rancher/k3s/k3s.yaml`. The first source that
// applies wins; a later one is never tried because an earlier one is unreachable (that could silently
// schedule onto the wrong cluster). Resolution is pure (env and a file test are passed in); loading reads
// the files through client-node.
import { isIPv6 } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { ClusterError } from "./errors.ts";

export type KubeconfigSource = "flag" | "in-cluster" | "KUBECONFIG" | "home" | "k3s";

export interface KubeconfigResolution {
  source: KubeconfigSource;
  /** The kubeconfig file (the first of `paths` for KUBECONFIG); absent for in-cluster. */
  path?: string;
  /** KUBECONFIG only: every listed file that exists, merged in order as kubectl does. */
  paths?: string[];
}

export interface ResolveInput {
  /** `--kubeconfig`: used as given, even if the file is missing (loading then fails loudly). */
  explicitPath?: string;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string | undefined;
  exists: (path: string) => boolean;
  /** Path list separator in KUBECONFIG; default ":" (";" on Windows). */
  delimiter?: string;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SERVICE_ACCOUNT_TOKEN = `${SERVICE_ACCOUNT_DIR}/token`;
export const SERVICE_ACCOUNT_CA = `${SERVICE_ACCOUNT_DIR}/ca.crt`;
export const K3S_KUBECONFIG = "/etc/rancher/k3s/k3s.yaml";

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/** The first applicable source, or undefined when nothing is configured (standalone). */
export function resolveKubeconfig(input: ResolveInput): KubeconfigResolution | undefined {
  const { env, exists } = input;
  if (nonEmpty(input.explicitPath)) return { source: "flag", path: input.explicitPath };
  // rest.InClusterConfig: both service env vars and the mounted token.
  if (
    nonEmpty(env.KUBERNETES_SERVICE_HOST) &&
    nonEmpty(env.KUBERNETES_SERVICE_PORT) &&
    exists(SERVICE_ACCOUNT_TOKEN)
  ) {
    return { source: "in-cluster" };
  }
  if (nonEmpty(env.KUBECONFIG)) {
    const listed = env.KUBECONFIG.split(input.delimiter ?? ":").filter((p) => p.trim() !== "");
    // kubectl skips listed files that do not exist; if none exists, loading fails with all of them named.
    const present = listed.filter((p) => exists(p));
    const paths = present.length > 0 ? present : listed;
    if (paths.length > 0) return { source: "KUBECONFIG", path: paths[0], paths };
  }
  if (nonEmpty(input.homeDir)) {
    const home = `${input.homeDir.replace(/\/+$/, "")}/.kube/config`;
    if (exists(home)) return { source: "home", path: home };
  }
  if (exists(K3S_KUBECONFIG)) return { source: "k3s", path: K3S_KUBECONFIG };
  return undefined;
}

/** "KUBECONFIG (/a.yaml)", "in-cluster service account", ...: for logs. */
export function describeResolution(resolution: KubeconfigResolution): string {
  if (resolution.source === "in-cluster") return "in-cluster service account";
  const files = resolution.paths ?? (resolution.path ? [resolution.path] : []);
  const label = resolution.source === "flag" ? "--kubeconfig" : resolution.source;
  return `${label} (${files.join(", ")})`;
}

export interface LoadOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Service-account directory; tests point it elsewhere. */
  serviceAccountDir?: string;
}

/** Loads a client-node KubeConfig for a resolution. Throws ClusterError K3SF_ERR_KUBE_CONFIG. */
export function loadKubeConfig(resolution: KubeconfigResolution, options: LoadOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (resolution.source === "in-cluster") loadInCluster(kc, options);
    else {
      const [first, ...rest] = resolution.paths ?? (resolution.path ? [resolution.path] : []);
      if (first === undefined) throw new Error("no kubeconfig path");
      kc.loadFromFile(first);
      for (const path of rest) {
        const next = new KubeConfig();
        next.loadFromFile(path);
        mergeFirstWins(kc, next);
      }
    }
  } catch (err) {
    throw new ClusterError(
      "K3SF_ERR_KUBE_CONFIG",
      `cannot load Kubernetes config from ${describeResolution(resolution)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new ClusterError(
      "K3SF_ERR_KUBE_CONFIG",
      `Kubernetes config from ${describeResolution(resolution)} has no current context with a cluster server`,
    );
  }
  return kc;
}

// kubectl's merge rule: the first file that sets a value wins (current-context and same-named entries).
// client-node's mergeConfig throws on duplicate names instead.
function mergeFirstWins(into: KubeConfig, next: KubeConfig): void {
  const missing = <T extends { name: string }>(have: T[], add: T[]) =>
    add.filter((item) => !have.some((h) => h.name === item.name));
  into.clusters = [...into.clusters, ...missing(into.clusters, next.clusters)];
  into.users = [...into.users, ...missing(into.users, next.users)];
  into.contexts = [...into.contexts, ...missing(into.contexts, next.contexts)];
  if (!into.currentContext) into.currentContext = next.currentContext;
}

// Mirrors client-node's loadFromCluster, but from the env passed in rather than process.env.
function loadInCluster(kc: KubeConfig, options: LoadOptions): void {
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = options.env.KUBERNETES_SERVICE_HOST ?? "";
  const port = options.env.KUBERNETES_SERVICE_PORT ?? "";
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  kc.loadFromClusterAndUser(
    { name: "inCluster", server, caFile: `${dir}/ca.crt`, skipTLSVerify: false },
    { name: "inClusterUser", authProvider: { name: "tokenFile", config: { tokenFile: `${dir}/token` } } },
  );
}
