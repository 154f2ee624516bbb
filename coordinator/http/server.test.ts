import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode, topicsFor } from "../../proto/index.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { until } from "../../test/support/until.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "../broker/broker.ts";
import { type RunningCoordinator, startCoordinator } from "../fleet/fleet-service.ts";
import { createCoordinatorMetrics } from "./metrics.ts";
import { type HttpEndpoint, startHttpServer } from "./server.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();

/** Parses Prometheus text exposition into `name{labels}` → value. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe("coordinator HTTP endpoints", () => {
  let broker: EmbeddedBroker;
  let coordinator: RunningCoordinator;
  let http: HttpEndpoint;
  let cpu = 0;
  const scrape = async () => parseExposition(await (await fetch(`${http.url}/metrics`)).text());

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, host: "127.0.0.1", port: 0, logger });
    coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      reportIntervalMs: 60_000,
      logger,
    });
    const metrics = createCoordinatorMetrics(coordinator);
    http = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      registry: metrics.registry,
      readiness: [{ name: "broker", ok: () => coordinator.link.connected }],
      logger,
    });
    metrics.observeDecision("mqtt", "scheduled", 0.004);
    metrics.countKubeError("bind", "409");
    const agent = await mqtt.connectAsync(broker.url, { clientId: "n1" });
    await agent.publishAsync(
      topics.birth("n1"),
      Buffer.from(encode("birth", birth({ session: 1, nodeId: "n1" }))),
      {
        qos: 1,
      },
    );
    await agent.publishAsync(
      topics.nodeStatus("n1"),
      Buffer.from(encode("nodeStatus", status("online", 1))),
      { qos: 1 },
    );
    for (const seq of [1, 2, 2, 5]) {
      cpu = 10 * seq;
      const t = telemetry({ session: 1, seq, cpu, memory: 50, timeMs: Date.now() });
      await agent.publishAsync(topics.telemetry("n1"), Buffer.from(encode("telemetry", t)), { qos: 1 });
    }
    await agent.publishAsync(topics.telemetry("n1"), Buffer.from([0xff, 0x01, 0x02]), { qos: 1 });
    await agent.endAsync();
    await until(() => coordinator.counters().received >= 7);
    await coordinator.publishReportNow();
  });

  afterAll(async () => {
    await http?.close();
    await coordinator?.stop();
    await broker?.close();
  });

  it("serves /metrics with the values the coordinator saw", async () => {
    const m = await scrape();
    expect(m.get('k3sfleet_ingest_messages_total{result="received"}')).toBe(7);
    expect(m.get('k3sfleet_ingest_rejected_total{reason="decode_error"}')).toBe(1);
    expect(m.get("k3sfleet_ingest_duplicates_total")).toBe(1);
    expect(m.get("k3sfleet_ingest_gaps_total")).toBe(2);
    expect(m.get('k3sfleet_nodes{state="online"}')).toBe(1);
    expect(m.get('k3sfleet_node_cpu_percent{node="n1"}')).toBe(cpu);
    expect(m.get('k3sfleet_node_memory_percent{node="n1"}')).toBeCloseTo(50);
    expect(m.get('k3sfleet_schedule_decisions_total{source="mqtt",status="scheduled"}')).toBe(1);
    expect(m.get('k3sfleet_schedule_decision_seconds_bucket{le="0.005",source="mqtt"}')).toBe(1);
    expect(m.get('k3sfleet_kube_api_errors_total{operation="bind",code="409"}')).toBe(1);
    expect(m.get('k3sfleet_reports_published_total{result="skipped"}')).toBe(0);
    expect(m.get("k3sfleet_report_build_seconds")).toBeGreaterThan(0);
    expect(m.get("k3sfleet_report_build_seconds")).toBe(coordinator.counters().lastReportMs / 1000);
  });

  it("keeps counters monotonic across scrapes", async () => {
    const first = await scrape();
    const second = await scrape();
    expect(second.get('k3sfleet_ingest_messages_total{result="received"}')).toBe(
      first.get('k3sfleet_ingest_messages_total{result="received"}'),
    );
  });

  it("answers /healthz, /readyz and unknown paths", async () => {
    expect((await fetch(`${http.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${http.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe("[+]broker\n");
    expect((await fetch(`${http.url}/nope`)).status).toBe(404);
    expect((await fetch(`${http.url}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("is not ready while the broker is gone", async () => {
    await broker.close();
    await until(async () => (await fetch(`${http.url}/readyz`)).status === 503);
    expect(await (await fetch(`${http.url}/readyz`)).text()).toBe("[-]broker\n");
  });
});
