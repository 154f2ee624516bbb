// An agent restarted on a full disk (issue 12, High in the issue: its node dropped out of the fleet). On a
// real full filesystem (a 1 MiB tmpfs mounted for this test; it needs root and a working `mount`, else it
// is skipped and says why) the agent starts, connects and publishes telemetry without its buffer, says so
// (RunningAgent.outbox.bufferUnavailable, the k3sfleet_agent_buffer_unavailable metric, a log line), takes
// a session that is still above the last persisted one, and opens its buffer once space returns.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { startAgent } from "../../agent/agent.ts";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { AGENT_DEFAULTS, BROKER_DEFAULTS, BUFFER_DEFAULTS } from "../support/defaults.ts";
import { createFakeSource } from "../support/fake-source.ts";
import { until } from "../support/until.ts";

const ROOT = "k3s-fleet/v1";
const mountPoint = mkdtempSync(join(tmpdir(), "k3sf-full-disk-"));

/** Mounts a 1 MiB tmpfs at `mountPoint`; the reason it cannot, or undefined when it did. */
function mountSmallTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to mount a small tmpfs";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as Error).message.split("\n")[0]}`;
  }
}
const cannotMount = mountSmallTmpfs();
if (cannotMount) console.warn(`agent-full-disk.test.ts skipped: ${cannotMount}`);
afterAll(() => {
  if (!cannotMount) execFileSync("umount", ["-l", mountPoint]);
});

/** Writes 4 KiB blocks to `file` until the filesystem says ENOSPC. */
function fillDisk(file: string): void {
  const block = Buffer.alloc(4096, 1);
  for (let i = 0; i < 100_000; i++) {
    try {
      writeFileSync(file, block, { flag: "a" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOSPC") return;
      throw error;
    }
  }
  throw new Error("the disk never filled");
}

describe.skipIf(cannotMount !== undefined)("agent on a full disk", () => {
  it("starts without its buffer, stays in the fleet, and opens the buffer when space returns", async () => {
    const broker = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1024 * 1024,
      topicRoot: ROOT,
      refusedPublish: "drop",
      localClients: [],
      logger: pino({ level: "silent" }),
    });
    const watcher = await mqtt.connectAsync(broker.broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    let telemetry = 0;
    watcher.on("message", () => telemetry++);
    await watcher.subscribeAsync(`${ROOT}/node/edge-full/telemetry`, { qos: 1 });
    const stateDir = join(mountPoint, "state");
    mkdirSync(stateDir);
    const options = {
      ...AGENT_DEFAULTS,
      nodeId: "edge-full",
      brokerUrl: broker.broker.url,
      topicRoot: ROOT,
      intervalMs: 100,
      stateDir,
      internet: { target: undefined, timeoutMs: 500, everyMs: 30_000 },
      logger: pino({ level: "silent" }),
      source: createFakeSource({ stepMs: 100 }),
      buffer: { ...BUFFER_DEFAULTS, waitForCoordinator: false, retryMs: 200 },
    };
    try {
      // A first run leaves its session file, install seed and buffer behind, as on a real node.
      const first = await startAgent(options);
      await until(() => first.connected, 10_000, "first run connected");
      await first.stop("restart");
      const lastSession = BigInt(readFileSync(join(stateDir, "edge-full.session"), "utf8").trim());

      const filler = join(mountPoint, "filler");
      fillDisk(filler);
      const agent = await startAgent({ ...options, source: createFakeSource({ stepMs: 100 }) });
      try {
        expect(agent.session).toBeGreaterThan(lastSession);
        await until(() => agent.connected, 10_000, "connected on a full disk");
        const before = telemetry;
        await until(() => telemetry >= before + 3, 10_000, "telemetry on a full disk");
        expect(agent.outbox.bufferUnavailable).toBe(1);

        rmSync(filler);
        await until(() => agent.outbox.bufferUnavailable === 0, 5_000, "buffer opened after space returned");
        expect(agent.connected).toBe(true);
      } finally {
        await agent.stop("test over");
      }
    } finally {
      await watcher.endAsync(true);
      await broker.broker.close();
    }
  }, 40_000);
});
