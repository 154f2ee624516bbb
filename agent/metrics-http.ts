// Optional HTTP endpoint for the agent's metrics (`agent --metrics-listen 127.0.0.1:9465`).
import type { RunningAgent } from "./agent.ts";
import { agentMetricsText } from "./metrics.ts";

export interface AgentMetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startAgentMetricsServer(
  agent: RunningAgent,
  host: string,
  port: number,
): Promise<AgentMetricsServer> {
  // Imported here, not at the top: node:http brings crypto, TLS, HTTP/2 and zlib with it (+17 MiB RSS,
  // bench/agent-results.md), and the bundled agent hoists top-level imports of built-ins to its start.
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      const body = agentMetricsText({
        nodeId: agent.nodeId,
        connected: agent.connected,
        session: agent.session,
        seq: agent.seq,
        sampling: agent.sampling,
        outbox: agent.outbox,
      });
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
