// startFakeApiServer: an HTTPS Kubernetes API server on 127.0.0.1 for tests, with a generated CA written
// into a kubeconfig, bearer-token auth, the endpoints the coordinator uses, an in-process test API to set
// up and observe cluster state, and fault injection.
import { rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeConfig } from "@kubernetes/client-node";
import { generateServerCerts } from "./certs.ts";
import type { VersionInfo } from "./discovery.ts";
import { Faults } from "./faults.ts";
import type { RequestInfo } from "./handlers.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { MetricsState } from "./metrics.ts";
import { errorReply, type Reply, send, statusReply } from "./respond.ts";
import { type RouterContext, route } from "./router.ts";
import { isUnrouted, unauthorized } from "./status.ts";
import { Store } from "./store.ts";
import { TestApi } from "./test-api.ts";
import { WatchRegistry } from "./watch.ts";

export interface FakeApiServerOptions {
  /** Bearer token clients must send; default random. */
  token?: string;
  /** Changes kept for watch replay before older resourceVersions expire (410). Default 1000. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks=true. Default 1000 ms (upstream: 1 min). */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client sends no timeoutSeconds. Default 1800 s (upstream: 30–60 min). */
  defaultWatchTimeoutSeconds?: number;
  /** Namespaces that exist at start. Default default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  metricsAvailable?: boolean;
  version?: VersionInfo;
  now?: () => Date;
}

export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** HTTP status answered (200 for a watch stream that was opened). */
  status: number;
  watch: boolean;
  /** False when the fake has no such endpoint (404 "could not find the requested resource", or 405): a
   *  test of the product asserts none of its requests was unrouted, so the fake grows with the product. */
  routed: boolean;
}

export interface FakeApiServer extends TestApi {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** PEM of the generated CA. */
  readonly caCert: string;
  readonly kubeconfigPath: string;
  readonly faults: Faults;
  /** A fresh client-node KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Every request so far, in arrival order. */
  requests(): RequestRecord[];
  clearRequests(): void;
  /** Number of watch streams currently open. */
  openWatches(): number;
  close(): Promise<void>;
}

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

async function handle(
  ctx: RouterContext,
  faults: Faults,
  token: string,
  log: RequestRecord[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "https://127.0.0.1");
  const method = req.method ?? "GET";
  const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
  const record: RequestRecord = {
    method,
    path: url.pathname,
    query: url.searchParams,
    status: 0,
    watch,
    routed: true,
  };
  log.push(record);
  let reply: Reply | undefined;
  try {
    const delay = faults.takeDelay(method, url.pathname + url.search);
    if (delay > 0) await sleep(delay);
    if (req.headers.authorization !== `Bearer ${token}`) throw unauthorized();
    const injected = faults.takeFailure(method, url.pathname + url.search);
    if (injected) reply = statusReply(injected);
    else {
      const info: RequestInfo = { req, res, method, path: url.pathname, query: url.searchParams };
      reply = await route(ctx, info);
    }
  } catch (err) {
    record.routed = !isUnrouted(err);
    reply = errorReply(err);
  }
  record.status = reply?.code ?? 200;
  if (reply) send(res, reply);
}

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const token = options.token ?? `fake-${crypto.randomUUID()}`;
  const certs = await generateServerCerts({
    dns: ["localhost", "kubernetes", "kubernetes.default"],
    ips: ["127.0.0.1"],
  });
  const store = new Store({ historyLimit: options.historyLimit, now: options.now });
  const watches = new WatchRegistry();
  const metrics = new MetricsState();
  metrics.available = options.metricsAvailable ?? true;
  const faults = new Faults((mode) => watches.dropAll(mode));
  const log: RequestRecord[] = [];
  const ctx: RouterContext = {
    store,
    watches,
    metrics,
    version: options.version,
    serverAddress: "",
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    defaultWatchTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1800,
  };
  const testApi = new TestApi(ctx);
  for (const name of options.namespaces ?? DEFAULT_NAMESPACES) testApi.addNamespace(name);

  const server: Server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    handle(ctx, faults, token, log, req, res).catch((err: unknown) => send(res, errorReply(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  ctx.serverAddress = `127.0.0.1:${port}`;
  const kubeconfig = await writeKubeconfig({ server: url, caCert: certs.caCert, token });

  const api: FakeApiServer = Object.assign(testApi, {
    url,
    port,
    token,
    caCert: certs.caCert,
    kubeconfigPath: kubeconfig.path,
    faults,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig.path);
      return kc;
    },
    requests: () => [...log],
    clearRequests() {
      log.length = 0;
    },
    openWatches: () => watches.openCount,
    async close() {
      watches.dropAll("end");
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(kubeconfig.dir, { recursive: true, force: true });
    },
  });
  return api;
}
