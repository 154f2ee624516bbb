// The coordinator's HTTP endpoints: /healthz (the process is up), /readyz (broker connected; cluster synced
// or standalone by choice), /metrics (Prometheus exposition). Loopback by default.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  boundConnections,
  DEFAULT_HTTP_CONNECTION_BOUNDS,
  type HttpConnectionBounds,
  serverTimeouts,
} from "./connection-bounds.ts";
import { createExpositionCache } from "./exposition-cache.ts";

/** How long one /metrics collection is served again (below Prometheus' usual 15 s scrape interval). */
export const DEFAULT_METRICS_MAX_AGE_MS = 5000;

export interface ReadinessCheck {
  name: string;
  ok(): boolean;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
  logger: Logger;
  /** /metrics is collected at most once per this long; 0 = every request. */
  metricsMaxAgeMs?: number;
  /** The web view (coordinator/web): answers its own paths, returns false for others. */
  web?: { handle(req: IncomingMessage, res: ServerResponse, path: string): boolean };
  /** Sockets and header time one client may take (connection-bounds.ts). */
  bounds?: Partial<HttpConnectionBounds>;
}

export interface HttpEndpoint {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpEndpoint> {
  const { registry, readiness, logger } = options;
  const exposition = createExpositionCache(registry, options.metricsMaxAgeMs ?? DEFAULT_METRICS_MAX_AGE_MS);
  const bounds = { ...DEFAULT_HTTP_CONNECTION_BOUNDS, ...options.bounds };
  const server: Server = createServer(serverTimeouts(bounds), (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const failing = readiness.filter((check) => !safeOk(check));
      const body = readiness.map((c) => `${failing.includes(c) ? "[-]" : "[+]"}${c.name}`).join("\n");
      res.writeHead(failing.length ? 503 : 200, { "content-type": "text/plain" }).end(`${body}\n`);
    } else if (path === "/metrics") {
      exposition.text().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) => {
          logger.error({ err: error }, "cannot collect metrics");
          res.writeHead(500).end();
        },
      );
    } else if (!options.web?.handle(req, res, path)) {
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: try /healthz, /readyz or /metrics\n");
    }
  });
  let refusalLogged = 0;
  boundConnections(server, bounds, (reason, address) => {
    const now = Date.now();
    if (now - refusalLogged < 10_000) return;
    refusalLogged = now;
    logger.warn({ reason, address, bounds }, "http connection refused by a bound");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  logger.info({ url: `http://${host}:${port}` }, "http endpoints listening");
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeOk(check: ReadinessCheck): boolean {
  try {
    return check.ok();
  } catch {
    return false;
  }
}
