// Finds the cluster and proves it answers: resolve the kubeconfig, load it, GET /version within a
// timeout. Nothing configured means standalone. A cluster asked for (--kubeconfig, KUBECONFIG,
// in-cluster) that does not answer is tried again with backoff (waitForCluster); a kubeconfig merely
// found (~/.kube/config, k3s.yaml) that does not answer means standalone. Said once per change, no stack.
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
import { type BackoffOptions, createBackoff } from "../../common/backoff.ts";
import { ClusterError, describeError, httpStatusOf } from "./errors.ts";
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

/** One try: nothing configured, connected, or failed (with where it looked and why). */
export type ClusterAttempt =
  | { kind: "none" }
  | { kind: "connected"; connection: ClusterConnection; where: string }
  | {
      kind: "failed";
      error: ClusterError;
      where: string;
      source: KubeconfigResolution["source"];
      server: string;
    };

/** Sources that mean "use a cluster" (--kubeconfig, KUBECONFIG, in-cluster), not a file that happens to exist. */
const ASKED_FOR: ReadonlySet<KubeconfigResolution["source"]> = new Set(["flag", "KUBECONFIG", "in-cluster"]);

export function clusterAskedFor(source: KubeconfigResolution["source"]): boolean {
  return ASKED_FOR.has(source);
}

/** Resolve, load and probe once. Logs nothing. */
export async function attemptCluster(options: ConnectOptions): Promise<ClusterAttempt> {
  const resolution = resolveKubeconfig({
    explicitPath: options.kubeconfigPath,
    env: options.env,
    homeDir: options.homeDir ?? homedir(),
    exists: options.exists ?? existsSync,
    delimiter,
  });
  if (resolution === undefined) return { kind: "none" };
  const where = describeResolution(resolution);
  const { source } = resolution;
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(resolution, { env: options.env, serviceAccountDir: options.serviceAccountDir });
  } catch (cause) {
    const error =
      cause instanceof ClusterError
        ? cause
        : new ClusterError("K3SF_ERR_KUBE_CONFIG", describeError(cause), { cause });
    return { kind: "failed", error, where, source, server: "" };
  }
  const server = kc.getCurrentCluster()?.server ?? "";
  const probe = options.probe ?? probeVersion;
  try {
    const version = await probe(kc, options.timeoutMs);
    return { kind: "connected", where, connection: { kc, server, source, version: version.gitVersion } };
  } catch (cause) {
    const error = new ClusterError(
      "K3SF_ERR_KUBE_UNREACHABLE",
      `${server} from ${where}: ${describeError(cause)}`,
      { cause },
    );
    return { kind: "failed", error, where, source, server };
  }
}

/** A short label for a failure, for kube_api_errors_total: the HTTP status, else the system error code. */
export function failureCode(error: unknown): string {
  const http = httpStatusOf(error);
  if (http !== undefined) return String(http);
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (e.name === "TimeoutError" || e.name === "AbortError") return "timeout";
    const http = httpStatusOf(current);
    if (http !== undefined) return String(http);
    if (typeof e.code === "string" && e.code !== "" && !e.code.startsWith("K3SF_ERR")) return e.code;
    current = e.cause;
  }
  return error instanceof ClusterError ? error.code : "error";
}

/** A reachable cluster, or undefined (standalone) after one log line saying why. */
export async function connectCluster(options: ConnectOptions): Promise<ClusterConnection | undefined> {
  const log = options.logger.child({ part: "connect" });
  const attempt = await attemptCluster(options);
  if (attempt.kind === "none") {
    log.info(
      "no Kubernetes cluster reachable (no in-cluster service account, KUBECONFIG, ~/.kube/config or " +
        "/etc/rancher/k3s/k3s.yaml): running standalone",
    );
    return undefined;
  }
  if (attempt.kind === "failed") {
    // One line without a stack: an unreachable cluster is a situation, not a bug.
    log.warn(
      { code: attempt.error.code, server: attempt.server || undefined, source: attempt.source },
      `no Kubernetes cluster reachable (${attempt.error.message}): running standalone`,
    );
    return undefined;
  }
  const { connection } = attempt;
  log.info(
    { server: connection.server, source: connection.source, version: connection.version },
    `connected to Kubernetes via ${attempt.where}`,
  );
  return connection;
}

export interface ClusterWaitOptions extends ConnectOptions {
  /** Every failed attempt, with failureCode's label (kube_api_errors_total{operation="connect"}). */
  onFailure?: (code: string) => void;
  backoff?: Partial<BackoffOptions>;
  /** Default setTimeout; resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface ClusterWait {
  /**
   * The first attempt: connected, standalone (nothing configured, or only a default file that failed),
   * or "retrying" (a cluster was asked for and did not answer: `later` settles when it does).
   */
  first: Promise<ClusterConnection | "standalone" | "retrying">;
  /** The connection once made; undefined when standalone or stopped first. */
  later: Promise<ClusterConnection | undefined>;
  stop(): void;
}

/**
 * Like connectCluster, but a cluster that was asked for (--kubeconfig, KUBECONFIG, in-cluster) is tried
 * again with backoff until it answers: logged once per change of state (first failure, a different
 * reason, connected), without a stack. A kubeconfig merely found (~/.kube/config, k3s.yaml) is tried once.
 */
export function waitForCluster(options: ClusterWaitOptions): ClusterWait {
  const log = options.logger.child({ part: "connect" });
  const controller = new AbortController();
  const backoff = createBackoff({ initialMs: 1_000, maxMs: 30_000, ...options.backoff }, options.random);
  const sleep = options.sleep ?? abortableSleep;
  let resolveFirst: (value: ClusterConnection | "standalone" | "retrying") => void = () => {};
  const first = new Promise<ClusterConnection | "standalone" | "retrying">((resolve) => {
    resolveFirst = resolve;
  });
  const later = (async (): Promise<ClusterConnection | undefined> => {
    let lastReason: string | undefined;
    let failures = 0;
    for (;;) {
      const attempt = await attemptCluster(options);
      if (attempt.kind === "none") {
        log.info(
          "no Kubernetes cluster configured (no --kubeconfig, in-cluster service account, KUBECONFIG, " +
            "~/.kube/config or /etc/rancher/k3s/k3s.yaml): running standalone",
        );
        resolveFirst("standalone");
        return undefined;
      }
      if (attempt.kind === "connected") {
        const { connection } = attempt;
        log.info(
          { server: connection.server, source: connection.source, version: connection.version, failures },
          `connected to Kubernetes via ${attempt.where}`,
        );
        resolveFirst(connection);
        return connection;
      }
      failures++;
      options.onFailure?.(failureCode(attempt.error));
      const fields = {
        code: attempt.error.code,
        server: attempt.server || undefined,
        source: attempt.source,
      };
      if (!clusterAskedFor(attempt.source)) {
        log.warn(
          fields,
          `no Kubernetes cluster reachable (${attempt.error.message}): running standalone ` +
            "(pass --kubeconfig to keep trying it)",
        );
        resolveFirst("standalone");
        return undefined;
      }
      const reason = describeError(attempt.error.cause ?? attempt.error);
      if (reason !== lastReason) {
        log.warn(
          fields,
          `${lastReason === undefined ? "Kubernetes cluster not reachable" : "Kubernetes cluster still not reachable"} ` +
            `(${attempt.error.message}): retrying with backoff; /readyz fails until it answers`,
        );
        lastReason = reason;
      }
      resolveFirst("retrying");
      await sleep(backoff.next(), controller.signal);
      if (controller.signal.aborted) {
        resolveFirst("standalone");
        return undefined;
      }
    }
  })();
  return { first, later, stop: () => controller.abort() };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
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
