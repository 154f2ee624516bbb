// `k3s-fleet top --once --web URL` run as a user runs it: the last decisions (an MQTT dry-run request
// placed with its runner-up, one no node fits with kube-scheduler's message) read from the coordinator's
// web view with its token, next to the fleet from the retained report (the same lines the report's own
// list gives without --web); and a clear failure when the web view cannot be read.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { type ScheduleDecision, topicsFor } from "../proto/index.ts";
import { announceFleet } from "./support/announce-agent.ts";
import { runCliToEnd } from "./support/cli.ts";
import { connectRequester, scheduleRequest } from "./support/placement.ts";
import { testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const root = "top-decisions/v1";
const topics = topicsFor(root);
const TOKEN = "top-test-token-0123456789";
const NODES = ["n-a", "n-b", "n-c"];

let service: CoordinatorService;
let broker: string;
let web: string;
let placed: ScheduleDecision;
let refused: ScheduleDecision;

beforeAll(async () => {
  service = await startCoordinatorService(
    testServiceOptions({
      topicRoot: root,
      reportIntervalMs: 300,
      http: { host: "127.0.0.1", port: 0, web: { token: TOKEN } },
      scheduling: {},
      logger,
    }),
  );
  broker = service.broker?.url ?? "";
  web = service.http?.url ?? "";
  const requester = await connectRequester(broker, root);
  try {
    await announceFleet(requester.client, topics, NODES, () => service.coordinator.fleet.nodes.size);
    placed = await requester.request(
      scheduleRequest(root, requester.clientId, { dryRun: true, podName: "top-dry-run" }),
    );
    refused = await requester.request(
      scheduleRequest(root, requester.clientId, {
        dryRun: true,
        podName: "top-nowhere",
        nodeSelector: { zone: "nowhere" },
      }),
    );
  } finally {
    await requester.close();
  }
  await until(
    () => (service.coordinator.latestReport()?.scheduling?.decisions ?? 0n) >= 2n,
    10_000,
    "a report counting both decisions",
  );
}, 30_000);

afterAll(async () => {
  await service?.stop();
});

const top = (...args: string[]) =>
  runCliToEnd(["top", "--once", "--broker", broker, "--topic-root", root, ...args], {
    K3S_FLEET_HTTP_TOKEN: TOKEN,
  });

describe("k3s-fleet top --once --web", () => {
  it("prints the last decisions, newest first, with node, runner-up and kube-scheduler's message", async () => {
    expect(placed.node).not.toBe("");
    expect(placed.runnerUp).not.toBe("");
    const { code, stdout, stderr } = await top("--web", web);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^scheduling \(last 2 decisions\): 1 scheduled, 1 unschedulable/m);
    const section = stdout.slice(stdout.indexOf("last decisions (newest first, UTC):"));
    const lines = section.split("\n").slice(1, 3);
    expect(lines[0]).toMatch(
      /^ {2}\d\d:\d\d:\d\d unschedulable +default\/top-nowhere +0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\. \(\d+\.\d ms, dry-run advisory\)$/,
    );
    expect(refused.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    expect(lines[1]).toContain(`default/top-dry-run`);
    // The engine's exact score (the reply carries it rounded to an integer), then the runner-up's.
    const shown = new RegExp(
      `-> ${placed.node} score ([0-9.]+), runner-up ${placed.runnerUp} ([0-9.]+) `,
    ).exec(lines[1] ?? "");
    expect(shown).not.toBeNull();
    expect(Math.round(Number(shown?.[1]))).toBe(Number(placed.score));
    expect(Number(shown?.[2])).toBeLessThanOrEqual(Number(shown?.[1]));
    expect(stdout).not.toContain("\u001b");
  });

  it("shows at most --decisions of them", async () => {
    const { stdout } = await top("--web", web, "--decisions", "1");
    const section = stdout.slice(stdout.indexOf("last decisions"));
    expect(section).toContain("top-nowhere");
    expect(section).not.toContain("top-dry-run");
  });

  it("without --web lists the same decisions from the report; a web view it cannot read fails the run, saying why", async () => {
    const plain = await top();
    expect(plain.code).toBe(0);
    const rows = (text: string) => text.split("\n").filter((l) => /^ {2}\d\d:\d\d:\d\d /.test(l));
    const fromWeb = await top("--web", web);
    // Same decisions, same words: the report carries the engine's exact scores as the web view does.
    expect(rows(plain.stdout)).toEqual(rows(fromWeb.stdout));
    const wrong = await runCliToEnd(
      ["top", "--once", "--broker", broker, "--topic-root", root, "--web", web],
      {
        K3S_FLEET_HTTP_TOKEN: "not-the-token-0123456789",
      },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("cannot read decisions:");
    expect(wrong.stderr).toContain("answered HTTP 401 (needs http.token or a viewer account)");
    expect(wrong.stdout).toMatch(/^k3s-fleet top — 3 nodes/);
  });
});
