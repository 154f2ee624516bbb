// `k3s-fleet top --once` run as a user runs it, as the users file's viewer, against a coordinator with
// its embedded broker and three nodes with their own accounts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { encode, topicsFor } from "../proto/index.ts";
import { type Cleanup, mqttClient, usersFile } from "./support/auth.ts";
import { runCliToEnd } from "./support/cli.ts";
import { BROKER_DEFAULTS } from "./support/defaults.ts";
import { birth, status, telemetry } from "./support/fleet-messages.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const root = "top-test/v1";
const topics = topicsFor(root);
const NODES = [
  { id: "n-low", cpu: 10, zone: "edge-1" },
  { id: "n-high", cpu: 80, zone: "edge-2" },
  { id: "n-mid", cpu: 40, zone: "edge-2" },
];

let dir: string;
let service: CoordinatorService;
let url: string;
const cleanup: Cleanup = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-top-"));
  const file = join(dir, "users.yaml");
  await usersFile(file, [
    { username: "viewer", role: "viewer", password: "viewer-pw" },
    ...NODES.map((n) => ({ username: n.id, role: "node" as const, password: "node-pw" })),
  ]);
  service = await startCoordinatorService(
    testServiceOptions({
      embeddedBroker: {
        ...BROKER_DEFAULTS,
        host: "127.0.0.1",
        port: 0,
        maxPacketBytes: 1 << 20,
        refusedPublish: "drop",
        usersFile: file,
      },
      topicRoot: root,
      reportIntervalMs: 300,
      scheduling: { storePath: join(dir, "scheduling.sqlite") },
      logger,
    }),
  );
  url = service.broker?.url ?? "";
  for (const n of NODES) {
    const c = await mqttClient(
      url,
      { clientId: `k3s-fleet-agent-${n.id}`, username: n.id, password: "node-pw" },
      cleanup,
    );
    const b = birth({ session: 1, nodeId: n.id, intervalMs: 60_000, timeMs: Date.now() });
    b.labels = { zone: n.zone };
    await c.publishAsync(topics.birth(n.id), Buffer.from(encode("birth", b)), { qos: 1, retain: true });
    await c.publishAsync(
      topics.nodeStatus(n.id),
      Buffer.from(encode("nodeStatus", status("online", 1, Date.now()))),
      {
        qos: 1,
        retain: true,
      },
    );
    const t = telemetry({ session: 1, seq: 1, cpu: n.cpu, memory: 30, timeMs: Date.now() });
    await c.publishAsync(topics.telemetry(n.id), Buffer.from(encode("telemetry", t)), { qos: 1 });
  }
  await until(
    () => service.coordinator.latestReport()?.nodes.filter((n) => n.cpuPercent > 0).length === NODES.length,
    10_000,
    "a report with all three nodes",
  );
}, 30_000);

afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

const top = (...args: string[]) =>
  runCliToEnd(["top", "--once", "--broker", url, "--topic-root", root, "--username", "viewer", ...args], {
    K3S_FLEET_BROKER_PASSWORD: "viewer-pw",
  });

const nodeLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("n-"));

describe("k3s-fleet top --once", () => {
  it("prints every node sorted by CPU with its state, counts and scheduling, without colours", async () => {
    const { code, stdout, stderr } = await top();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^k3s-fleet top — 3 nodes: 3 online, 0 stale, 0 offline — report \d+s ago from /);
    expect(stdout).toContain("sorted by cpu: showing 3 of 3");
    expect(stdout).toMatch(/^NODE +HOST +STATE +CPU +MEM +DISK +LOAD +TEMP +SEEN$/m);
    const lines = nodeLines(stdout);
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(["n-high", "n-mid", "n-low"]);
    expect(lines[0]).toMatch(/^n-high +n-high +online +80\.0% +30\.0%/);
    expect(stdout).toMatch(/^scheduling \(last 0 decisions\): 0 scheduled, 0 unschedulable/m);
    expect(stdout).toContain("last decisions (newest first, UTC):\n  none yet");
    expect(stdout).not.toContain("\u001b");
  });

  it("sorts by name and filters by label", async () => {
    const byName = await top("--sort", "name");
    expect(nodeLines(byName.stdout).map((l) => l.split(/\s+/)[0])).toEqual(["n-high", "n-low", "n-mid"]);
    const zone = await top("--label", "zone=edge-2");
    expect(zone.stdout).toContain("label zone=edge-2: showing 2 of 3");
    expect(nodeLines(zone.stdout).map((l) => l.split(/\s+/)[0])).toEqual(["n-high", "n-mid"]);
  });

  it("fails with a clear message on a bad sort key or when no report comes", async () => {
    const bad = await top("--sort", "speed");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--sort must be one of cpu, memory, disk, name");
    const none = await runCliToEnd(
      [
        "top",
        "--once",
        "--broker",
        url,
        "--topic-root",
        "elsewhere/v1",
        "--username",
        "viewer",
        "--timeout",
        "500ms",
      ],
      { K3S_FLEET_BROKER_PASSWORD: "viewer-pw" },
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no fleet report on elsewhere/v1/coordinator/report");
  });
});
