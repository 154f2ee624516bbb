// The same contract through a real Mosquitto broker, with every piece run as a user runs it: CLI processes,
// mosquitto_sub to read telemetry, and protoc to decode it from the .proto alone.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli, runCliToEnd } from "./support/cli.ts";
import { type MosquittoProcess, startMosquitto } from "./support/mosquitto.ts";
import { protocAvailable, toolAvailable } from "./support/tools.ts";

const haveTools =
  toolAvailable("mosquitto", "mosquitto") && toolAvailable("mosquitto_sub", "mosquitto-clients");
const haveProtoc = protocAvailable();

/** The first message on `topic` as raw bytes, read by Mosquitto's own client. */
function mosquittoSubOne(port: number, topic: string, timeoutS = 10): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sub = spawn("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-N",
      "-C",
      "1",
      "-W",
      String(timeoutS),
      "-t",
      topic,
    ]);
    const chunks: Buffer[] = [];
    sub.stdout.on("data", (d: Buffer) => chunks.push(d));
    sub.once("exit", (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`mosquitto_sub exit ${code}`)),
    );
  });
}

describe.skipIf(!haveTools)("agent and coordinator through a real Mosquitto", () => {
  let mosquitto: MosquittoProcess;
  let coordinator: ReturnType<typeof runCli>;
  let agent: ReturnType<typeof runCli>;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    const stateDir = mkdtempSync(join(tmpdir(), "k3sf-mosq-"));
    coordinator = runCli(["coordinator", "--broker", mosquitto.url, "--report-interval", "1s", "--quiet"]);
    agent = runCli([
      "agent",
      "--broker",
      mosquitto.url,
      "--node-name",
      "mosq-node",
      "--interval",
      "500ms",
      "--state-dir",
      stateDir,
    ]);
  });

  afterAll(async () => {
    agent?.kill("SIGTERM");
    coordinator?.kill("SIGTERM");
    await Promise.all([agent?.exited, coordinator?.exited]);
    await mosquitto?.stop();
  });

  it("third-party clients read telemetry: mosquitto_sub | protoc --decode", async () => {
    const payload = await mosquittoSubOne(mosquitto.port, "k3s-fleet/v1/node/+/telemetry");
    expect(payload.length).toBeGreaterThan(10);
    if (!haveProtoc) return;
    const decoded = spawnSync(
      "protoc",
      ["--decode=k3sfleet.v1.NodeTelemetry", "-I", join(ROOT, "proto"), "k3sfleet/v1/fleet.proto"],
      { input: payload, encoding: "utf8" },
    );
    expect(decoded.status, decoded.stderr).toBe(0);
    expect(decoded.stdout).toMatch(/^session: \d+/m);
    expect(decoded.stdout).toMatch(/^seq: \d+/m);
    expect(decoded.stdout).toMatch(/^memory \{\n\s+total_bytes: \d+/m);
    expect(decoded.stdout).toMatch(/^cpu \{/m);
  });

  it("`k3s-fleet report` prints the coordinator's retained report, as text and as proto3 JSON", async () => {
    // The coordinator publishes every second; wait until a report lists the node with a sample.
    let json: { nodes?: Array<{ nodeId: string; health: string; received?: string }> } = {};
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const r = await runCliToEnd(["report", "--broker", mosquitto.url, "--json", "--timeout", "2s"]);
      if (r.code === 0) {
        json = JSON.parse(r.stdout);
        if (json.nodes?.some((n) => n.nodeId === "mosq-node" && Number(n.received ?? 0) > 0)) break;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(json.nodes?.find((n) => n.nodeId === "mosq-node")).toMatchObject({ health: "NODE_HEALTH_ONLINE" });
    const text = await runCliToEnd(["report", "--broker", mosquitto.url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("=== K3s Fleet Resource Summary ===");
    expect(text.stdout).toContain("mosq-node");
  });

  it("a clean agent stop leaves a retained OFFLINE status that the report shows", async () => {
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    const status = await mosquittoSubOne(mosquitto.port, "k3s-fleet/v1/node/mosq-node/status");
    if (haveProtoc) {
      const decoded = spawnSync(
        "protoc",
        ["--decode=k3sfleet.v1.NodeStatus", "-I", join(ROOT, "proto"), "k3sfleet/v1/fleet.proto"],
        { input: status, encoding: "utf8" },
      );
      expect(decoded.stdout).toMatch(/state: PEER_STATE_OFFLINE/);
    }
  });

  it("reports when no coordinator report exists instead of hanging", async () => {
    const other = await startMosquitto();
    try {
      const r = await runCliToEnd(["report", "--broker", other.url, "--timeout", "500ms"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no fleet report on k3s-fleet\/v1\/coordinator\/report/);
    } finally {
      await other.stop();
    }
  });
});
