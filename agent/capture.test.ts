import net from "node:net";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { messageToJson, NodeSnapshotSchema } from "../proto/index.ts";
import { createFakeSource } from "../test/support/fake-source.ts";
import { captureSnapshot, renderSnapshot } from "./capture.ts";

describe("captureSnapshot", () => {
  it("takes two readings one window apart, so rates are real", async () => {
    const slept: number[] = [];
    const snapshot = await captureSnapshot({
      nodeId: "edge-01",
      labels: { zone: "a" },
      source: createFakeSource({ stepMs: 1000 }),
      now: () => Date.UTC(2024, 0, 15, 10, 30, 45),
      sleep: async (ms) => void slept.push(ms),
    });
    expect(slept).toEqual([1000]);
    expect(snapshot.birth).toMatchObject({ nodeId: "edge-01", hostname: "edge-01", labels: { zone: "a" } });
    expect(snapshot.telemetry?.network?.interfaces[0]).toMatchObject({ name: "eth0", rxBytesPerSec: 2048n });
    expect(snapshot.telemetry?.cpu?.coreUsagePermille).toEqual([250, 500]);
    // Without a target the internet is not checked; online rests on the default route.
    expect(snapshot.telemetry?.health).toMatchObject({ online: true, internet: false, vpn: true });
    expect(renderSnapshot(snapshot, { utc: true })).toContain("Timestamp: 2024-01-15 10:30:45");
    expect(JSON.parse(messageToJson(NodeSnapshotSchema, snapshot))).toMatchObject({
      birth: { nodeId: "edge-01" },
      telemetry: { cpu: { cores: 2 } },
    });
  });

  it("captures this machine, checking the internet target (a loopback listener here)", async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const snapshot = await captureSnapshot({
        windowMs: 200,
        internet: { target: `127.0.0.1:${port}`, timeoutMs: 1000 },
      });
      expect(snapshot.birth?.nodeId).toBe(hostname());
      expect(snapshot.telemetry?.health?.internet).toBe(true);
      expect(snapshot.telemetry?.memory?.totalBytes).toBe(snapshot.birth?.memoryTotalBytes);
      expect(renderSnapshot(snapshot)).toMatch(/CPU Usage: \d+\.\d\d% \(\d+ cores\)/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
