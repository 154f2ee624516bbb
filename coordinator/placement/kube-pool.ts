// Connection reuse for the Kubernetes calls that act on decisions. client-node 2 builds a new undici Agent
// for every API call (KubeConfig.applySecurityAuthentication → createDispatcher), so every pod create,
// Binding and Event would pay a TCP connect and a full TLS handshake (about 5 ms of CPU each, measured in
// bench/schedule-roundtrip.bench.ts). This KubeConfig keeps the dispatcher of the current cluster/user
// and hands it to every call (keep-alive), and replaces it after `maxAgeMs` so rotated credentials are
// picked up. Auth headers (tokens, token files) are still applied per call by client-node.
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export const DEFAULT_POOL_MAX_AGE_MS = 5 * 60_000;

class PooledKubeConfig extends KubeConfig {
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #pooled: { key: string; dispatcher: Dispatcher; at: number } | undefined;

  constructor(maxAgeMs: number, now: () => number) {
    super();
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    const key = this.#key();
    const pooled = this.#pooled;
    const at = this.#now();
    if (pooled !== undefined && pooled.key === key && at - pooled.at < this.#maxAgeMs) {
      fresh.close().catch(() => undefined);
      context.setDispatcher(pooled.dispatcher);
      return;
    }
    // close() lets requests in flight on the old one finish.
    pooled?.dispatcher.close().catch(() => undefined);
    this.#pooled = { key, dispatcher: fresh, at };
  }

  /** What the dispatcher's TLS setup depends on. */
  #key(): string {
    const c = this.getCurrentCluster();
    const u = this.getCurrentUser();
    return JSON.stringify([
      c?.name,
      c?.server,
      c?.caData,
      c?.caFile,
      c?.skipTLSVerify,
      c?.tlsServerName,
      c?.proxyUrl,
      u?.name,
      u?.certData,
      u?.certFile,
      u?.keyData,
      u?.keyFile,
    ]);
  }
}

/** A copy of `source` whose API clients reuse one connection pool. `source` itself is left as it is. */
export function pooledKubeConfig(
  source: KubeConfig,
  maxAgeMs = DEFAULT_POOL_MAX_AGE_MS,
  now: () => number = Date.now,
): KubeConfig {
  const kc = new PooledKubeConfig(maxAgeMs, now);
  kc.loadFromOptions({
    clusters: source.clusters,
    users: source.users,
    contexts: source.contexts,
    currentContext: source.currentContext,
  });
  return kc;
}
