// Benchmark child for `node bench/hostile.bench.ts probe-health`: a coordinator (startCoordinator, its
// Prometheus registry and HTTP server as `k3s-fleet coordinator` serves them) holding NODES nodes, each
// with a birth and a telemetry sample, fed over loopback MQTT through a plain embedded aedes. Prints
// {"port"} on stdout once every node is in the fleet; exits on "quit" from stdin.
// `metrics-child.ts NODES METRICS_MAX_AGE_MS`
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import pino from "pino";
import { startEmbeddedBroker } from "../../coordinator/broker/broker.ts";
import { startCoordinator } from "../../coordinator/fleet/fleet-service.ts";
import { createCoordinatorMetrics } from "../../coordinator/http/metrics.ts";
import { startHttpServer } from "../../coordinator/http/server.ts";
import { encode, topicsFor } from "../../proto/index.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, telemetry } from "../../test/support/fleet-messages.ts";

const [nodes = 20_000, maxAgeMs = 5000] = process.argv.slice(2).map(Number);
const logger = pino({ level: "silent" });
const root = "k3s-fleet/v1";
const topics = topicsFor(root);
const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, host: "127.0.0.1", port: 0, logger });
const coordinator = await startCoordinator({
  ...COORDINATOR_DEFAULTS,
  brokerUrl: broker.url,
  topicRoot: root,
  reportIntervalMs: 10_000,
  logger,
});
const metrics = createCoordinatorMetrics(coordinator);
const http = await startHttpServer({
  host: "127.0.0.1",
  port: 0,
  registry: metrics.registry,
  readiness: [],
  logger,
  metricsMaxAgeMs: maxAgeMs,
});
const feeder = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
const now = Date.now();
for (let i = 0; i < nodes; i++) {
  const nodeId = `edge-${String(i).padStart(5, "0")}`;
  feeder.publish(
    topics.birth(nodeId),
    Buffer.from(encode("birth", birth({ session: 1, nodeId, timeMs: now }))),
  );
  feeder.publish(
    topics.telemetry(nodeId),
    Buffer.from(encode("telemetry", telemetry({ session: 1, seq: 1, timeMs: now, cpu: i % 100 }))),
  );
  if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
}
while (coordinator.fleet.nodes.size < nodes) await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`${JSON.stringify({ port: http.port, nodes: coordinator.fleet.nodes.size })}\n`);
for await (const line of createInterface({ input: process.stdin })) if (line === "quit") break;
await feeder.endAsync(true);
await http.close();
await coordinator.stop();
await broker.close();
process.exit(0);
