// Finds the cluster and proves it answers: resolve the kubeconfig, load it, GET /version within a
// timeout. Anything short of an answer (nothing configured, unreadable config, refused, timed out,
// 401/403) means standalone mode, said once in the log with the reason.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter } from "node:path";
import {
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  VersionApi,
  type VersionInfo,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ClusterError, describeError } from "./errors.ts";
import {
  describeResolution,
  type KubeconfigResolution,
  type LoadOptions,
  loadKubeConfig,
  resolveKubeconfig,
} from "./kubeconfig.ts";

export interface ConnectOptions {
  /** `--kubeconfig`. */
  kubeconfigPath?: string;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** Budget for GET /version. */
  timeoutMs: number;
  /** Default os.homedir(). */
  homeDir?: string;
  /** Default fs.existsSync. */
  exists?: (path: string) => boolean;
  serviceAccountDir?: LoadOptions["serviceAccountDir"];
  /** Replaces the /version probe (tests); resolves with the server's version or throws. */
  probe?: (kc: KubeConfig, timeoutMs: number) => Promise<VersionInfo>;
}

export interface ClusterConnection {
  kc: KubeConfig;
  /** The API server URL of the current context. */
  server: string;
  source: KubeconfigResolution["source"];
  /** gitVersion from /version, e.g. "v1.33.5+k3s1". */
  version: string;
}

/** A reachable cluster, or undefined (standalone) after one log line saying why. */
export async function connectCluster(options: ConnectOptions): Promise<ClusterConnection | undefined> {
  const log = options.logger.child({ part: "connect" });
  const resolution = resolveKubeconfig({
    explicitPath: options.kubeconfigPath,
    env: options.env,
    homeDir: options.homeDir ?? homedir(),
    exists: options.exists ?? existsSync,
    delimiter,
  });
  if (resolution === undefined) {
    log.info(
      "no Kubernetes cluster reachable (no in-cluster service account, KUBECONFIG, ~/.kube/config or " +
        "/etc/rancher/k3s/k3s.yaml): running standalone",
    );
    return undefined;
  }
  const where = describeResolution(resolution);
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(resolution, { env: options.env, serviceAccountDir: options.serviceAccountDir });
  } catch (err) {
    log.warn(
      { err, source: resolution.source },
      `no Kubernetes cluster reachable (${describeError(err)}): running standalone`,
    );
    return undefined;
  }
  const server = kc.getCurrentCluster()?.server ?? "";
  const probe = options.probe ?? probeVersion;
  try {
    const version = await probe(kc, options.timeoutMs);
    log.info(
      { server, source: resolution.source, version: version.gitVersion },
      `connected to Kubernetes via ${where}`,
    );
    return { kc, server, source: resolution.source, version: version.gitVersion };
  } catch (cause) {
    const err = new ClusterError(
      "K3SF_ERR_KUBE_UNREACHABLE",
      `${server} from ${where}: ${describeError(cause)}`,
      {
        cause,
      },
    );
    log.warn(
      { err, server, source: resolution.source },
      `no Kubernetes cluster reachable (${err.message}): running standalone`,
    );
    return undefined;
  }
}

/** GET /version through client-node, aborted after `timeoutMs`. */
export async function probeVersion(kc: KubeConfig, timeoutMs: number): Promise<VersionInfo> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")),
    timeoutMs,
  );
  // client-node 2.x takes per-request middleware; this one only attaches the abort signal.
  const withSignal: ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(controller.signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  try {
    return await kc
      .makeApiClient(VersionApi)
      .getCode({}, { middleware: [withSignal], middlewareMergeStrategy: "append" });
  } catch (err) {
    // undici rejects with the abort reason; make the timeout explicit whatever shape it arrives in.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
