// The last decisions from MQTT alone: a coordinator with its embedded broker and three agents answers
// dry-run schedule requests (one placed with a runner-up, one no node fits, one refused); then
// `k3s-fleet top --once` with no --web (no HTTP listener exists) and `k3s-fleet report` print them from
// the retained report. The report's canonical proto3 JSON with them matches Python's json_format.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { decode, type ScheduleDecision, toJson, topicsFor } from "../proto/index.ts";
import { announceFleet } from "./support/announce-agent.ts";
import { ROOT, runCliToEnd } from "./support/cli.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { testServiceOptions } from "./support/service.ts";
import { protocAvailable } from "./support/tools.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const root = "top-report/v1";
const topics = topicsFor(root);
const NODES = ["n-a", "n-b", "n-c"];

let service: CoordinatorService;
let broker: string;
let placed: ScheduleDecision;
let nowhere: ScheduleDecision;
let refused: ScheduleDecision;

beforeAll(async () => {
  service = await startCoordinatorService(
    testServiceOptions({ topicRoot: root, reportIntervalMs: 300, scheduling: {}, logger }),
  );
  expect(service.http).toBeUndefined();
  broker = service.broker?.url ?? "";
  const requester = await connectRequester(broker, root);
  try {
    await announceFleet(requester.client, topics, NODES, () => service.coordinator.fleet.nodes.size);
    placed = await requester.request(
      scheduleRequest(root, requester.clientId, { dryRun: true, podName: "report-dry-run" }),
    );
    nowhere = await requester.request(
      scheduleRequest(root, requester.clientId, {
        dryRun: true,
        podName: "report-nowhere",
        nodeSelector: { zone: "nowhere" },
      }),
    );
    refused = await requester.request(
      scheduleRequest(root, requester.clientId, { dryRun: true, podName: "report-no-image", image: "" }),
    );
  } finally {
    await requester.close();
  }
  await until(
    () => (service.coordinator.latestReport()?.scheduling?.recent.length ?? 0) >= 3,
    10_000,
    "a report listing the three decisions",
  );
}, 30_000);

afterAll(async () => {
  await service?.stop();
});

const decisionRows = (text: string) => text.split("\n").filter((l) => /^ +\d\d:\d\d:\d\d /.test(l));

describe("the last decisions from the retained report (no --web)", () => {
  it("k3s-fleet top --once prints them, newest first, with node, scores, runner-up and why", async () => {
    expect(placed.node).not.toBe("");
    expect(placed.runnerUp).not.toBe("");
    expect(refused.message).toContain("image");
    const { code, stdout, stderr } = await runCliToEnd([
      "top",
      "--once",
      "--broker",
      broker,
      "--topic-root",
      root,
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^scheduling \(last 3 decisions\): 1 scheduled, 1 unschedulable, 1 rejected/m);
    expect(stdout).toContain("last decisions (newest first, UTC):\n");
    const rows = decisionRows(stdout);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(
      /^ {2}\d\d:\d\d:\d\d rejected +default\/report-no-image +.*image.* \(\d+\.\d ms\)$/,
    );
    expect(rows[1]).toMatch(
      /^ {2}\d\d:\d\d:\d\d unschedulable +default\/report-nowhere +0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\. \(\d+\.\d ms, dry-run advisory\)$/,
    );
    // The engine's exact score (the reply carries it rounded to an integer), then the runner-up's.
    const shown = new RegExp(
      `^ {2}\\d\\d:\\d\\d:\\d\\d scheduled +default/report-dry-run +-> ${placed.node} score ([0-9.]+), runner-up ${placed.runnerUp} ([0-9.]+) \\(\\d+\\.\\d ms, dry-run advisory\\)$`,
    ).exec(rows[2] ?? "");
    expect(shown, rows[2]).not.toBeNull();
    expect(Math.round(Number(shown?.[1]))).toBe(Number(placed.score));
    expect(Number(shown?.[2])).toBeLessThanOrEqual(Number(shown?.[1]));
    expect(stdout).not.toContain("pass --web");

    const one = await runCliToEnd([
      "top",
      "--once",
      "--broker",
      broker,
      "--topic-root",
      root,
      "--decisions",
      "1",
    ]);
    expect(decisionRows(one.stdout)).toHaveLength(1);
    expect(decisionRows(one.stdout)[0]).toContain("report-no-image");
  });

  it("k3s-fleet report prints them under Scheduling, and --json has them as scheduling.recent", async () => {
    const text = await runCliToEnd(["report", "--broker", broker, "--topic-root", root]);
    expect(text.code).toBe(0);
    const section = text.stdout.slice(text.stdout.indexOf("  Last Decisions (newest first, UTC):"));
    const rows = decisionRows(section);
    expect(rows.map((r) => /default\/report-[a-z-]+/.exec(r)?.[0])).toEqual([
      "default/report-no-image",
      "default/report-nowhere",
      "default/report-dry-run",
    ]);
    const json = await runCliToEnd(["report", "--json", "--broker", broker, "--topic-root", root]);
    const recent = (JSON.parse(json.stdout) as { scheduling: { recent: Array<Record<string, unknown>> } })
      .scheduling.recent;
    expect(recent[2]).toMatchObject({
      requestId: placed.requestId,
      pod: "default/report-dry-run",
      source: "DECISION_SOURCE_DRY_RUN",
      status: "DECISION_STATUS_SCHEDULED",
      node: placed.node,
      runnerUp: placed.runnerUp,
      advisory: true,
    });
    expect(recent[1]).toMatchObject({ status: "DECISION_STATUS_UNSCHEDULABLE", message: nowhere.message });
    expect(recent[1]).not.toHaveProperty("score");
  });
});

// Debian's python3 with python3-protobuf, classes generated by protoc from fleet.proto.
const PYTHON = "/usr/bin/python3";
function pythonProtobuf(): boolean {
  if (!protocAvailable()) return false;
  if (existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import google.protobuf"]).status === 0) return true;
  const reason = `${PYTHON} cannot import google.protobuf: apt-get install python3-protobuf`;
  if (process.env.K3SF_REQUIRE_TOOLS) throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return false;
}
const pythonUsable = pythonProtobuf();

describe.skipIf(!pythonUsable)("the report's canonical proto3 JSON", () => {
  it("matches Python's json_format.MessageToJson for the same bytes, last decisions included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k3sf-report-json-"));
    try {
      const generated = spawnSync(
        "protoc",
        ["-I", join(ROOT, "proto"), `--python_out=${dir}`, "k3sfleet/v1/fleet.proto"],
        { encoding: "utf8" },
      );
      expect(generated.status, generated.stderr).toBe(0);
      const client = await mqtt.connectAsync(broker, { reconnectPeriod: 0 });
      const bytes = await new Promise<Buffer>((resolve) => {
        client.on("message", (_topic, payload) => resolve(payload));
        void client.subscribeAsync(topics.report, { qos: 1 });
      });
      await client.endAsync();
      const decoded = decode("report", bytes);
      if (!decoded.ok) throw new Error("the retained report does not decode");
      expect(decoded.message.scheduling?.recent.length).toBeGreaterThanOrEqual(3);
      const python = spawnSync(
        PYTHON,
        [
          "-c",
          "import sys\nfrom k3sfleet.v1 import fleet_pb2\nfrom google.protobuf import json_format\n" +
            "m = fleet_pb2.FleetReport()\nm.ParseFromString(sys.stdin.buffer.read())\n" +
            "print(json_format.MessageToJson(m))",
        ],
        { input: bytes, encoding: "utf8", env: { ...process.env, PYTHONPATH: dir } },
      );
      expect(python.status, python.stderr).toBe(0);
      expect(JSON.parse(toJson("report", decoded.message))).toEqual(JSON.parse(python.stdout));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
