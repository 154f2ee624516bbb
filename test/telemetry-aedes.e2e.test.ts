// The telemetry path end to end over real TCP: the agent CLI process → in-process embedded aedes → coordinator.
import { mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { startCoordinator } from "../coordinator/fleet/fleet-service.ts";
import { NodeHealth } from "../proto/index.ts";
import { runCli } from "./support/cli.ts";
import { COORDINATOR_DEFAULTS, EMBEDDED_BROKER_DEFAULTS } from "./support/defaults.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const INTERVAL_MS = 500;
const KEEPALIVE_S = 1;

function memTotalBytes(): bigint {
  const kb = /MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
  return BigInt(kb ?? 0) * 1024n;
}

/** Cores the agent documents: os.availableParallelism(), lowered by a cgroup v2 CPU quota when one is set. */
function expectedCores(): number {
  try {
    const [quota, period] = readFileSync("/sys/fs/cgroup/cpu.max", "utf8").trim().split(/\s+/);
    if (quota && quota !== "max" && period)
      return Math.min(availableParallelism(), Math.ceil(Number(quota) / Number(period)));
  } catch {}
  return availableParallelism();
}

describe("agent → embedded broker → coordinator", () => {
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>>;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, host: "127.0.0.1", port: 0, logger });
    coordinator = await startCoordinator({
      ...COORDINATOR_DEFAULTS,
      brokerUrl: broker.url,
      topicRoot: "k3s-fleet/v1",
      clientId: "e2e-coordinator",
      reportIntervalMs: 60_000,
      staleAfterIntervals: 3,
      // Offline must come from the Will, not from missed intervals, in this test.
      offlineAfterIntervals: 10_000,
      defaultIntervalMs: INTERVAL_MS,
      maxPayloadBytes: 64 * 1024,
      keepaliveSeconds: 5,
      logger,
    });
  });

  afterAll(async () => {
    await coordinator?.stop();
    await broker?.close();
  });

  const nodeReport = (id: string) => coordinator.buildReportNow().nodes.find((n) => n.nodeId === id);

  it("shows a real agent within two intervals with this machine's values, and offline by its Will on SIGKILL", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "k3sf-e2e-"));
    const agent = runCli([
      "agent",
      "--broker",
      broker.url,
      "--node-name",
      "e2e-node",
      "--interval",
      `${INTERVAL_MS}ms`,
      "--keepalive",
      `${KEEPALIVE_S}s`,
      "--state-dir",
      stateDir,
    ]);
    try {
      // Online: birth + status, then telemetry within two intervals of the birth.
      await until(() => nodeReport("e2e-node"), 15_000, "the node to appear");
      const seenAt = Date.now();
      const withSample = await until(
        () => {
          const n = nodeReport("e2e-node");
          return n && n.received >= 1n ? n : undefined;
        },
        2 * INTERVAL_MS + 1500,
        "a first sample within two intervals",
      );
      expect(Date.now() - seenAt).toBeLessThanOrEqual(2 * INTERVAL_MS + 1500);
      expect(withSample.health).toBe(NodeHealth.ONLINE);
      expect(withSample.memoryTotalBytes).toBe(memTotalBytes());
      expect(withSample.cores).toBe(expectedCores());
      expect(withSample.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(withSample.cpuPercent).toBeLessThanOrEqual(100);
      expect(withSample.memoryPercent).toBeGreaterThan(0);
      expect(withSample.memoryPercent).toBeLessThan(100);
      expect(withSample.uptimeSeconds).toBeGreaterThan(0n);

      // Several samples in order: no gaps, no duplicates.
      await until(() => (nodeReport("e2e-node")?.received ?? 0n) >= 3n, 5000, "three samples");
      expect(nodeReport("e2e-node")).toMatchObject({ gaps: 0n, duplicates: 0n });

      // SIGKILL: no clean disconnect, so only the broker's Will can say the node is gone.
      agent.kill("SIGKILL");
      const killedAt = Date.now();
      await agent.exited;
      await until(
        () => nodeReport("e2e-node")?.health === NodeHealth.OFFLINE,
        1.5 * KEEPALIVE_S * 1000 + 1000,
      );
      expect(Date.now() - killedAt).toBeLessThanOrEqual(1.5 * KEEPALIVE_S * 1000 + 1000);
    } finally {
      agent.kill("SIGKILL");
    }
  });
});
