// Standalone scheduling (no Kubernetes): the nodes are the agents, sized from their births and judged by
// their live telemetry; decisions are advisory and nothing is created. Also the `k3s-fleet schedule` CLI,
// run as a user runs it, against this coordinator over real MQTT.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CoordinatorService, startCoordinatorService } from "../coordinator/service.ts";
import { createMessage, DecisionStatus, encode, topicsFor } from "../proto/index.ts";
import { runCliToEnd } from "./support/cli.ts";
import { birth, status, telemetry } from "./support/fleet-messages.ts";
import { connectRequester, type Requester, scheduleRequest } from "./support/placement.ts";
import { freePort } from "./support/ports.ts";
import { testBroker, testServiceOptions } from "./support/service.ts";
import { until } from "./support/until.ts";

const logger = pino({ level: "silent" });
const topics = topicsFor();
const root = topics.root;

let service: CoordinatorService;
let agents: MqttClient;
let client: Requester;
let dir: string;
let url: string;

async function announce(nodeId: string, cores: number, cpu: number): Promise<void> {
  const b = createMessage("birth", { ...birth({ session: 1, nodeId, intervalMs: 60_000 }), k8sNodeName: "" });
  if (b.cpu) b.cpu.cores = cores;
  await agents.publishAsync(topics.birth(nodeId), Buffer.from(encode("birth", b)), { qos: 1, retain: true });
  await agents.publishAsync(
    topics.nodeStatus(nodeId),
    Buffer.from(encode("nodeStatus", status("online", 1, Date.now()))),
    {
      qos: 1,
    },
  );
  await agents.publishAsync(
    topics.telemetry(nodeId),
    Buffer.from(encode("telemetry", telemetry({ session: 1, seq: 1, cpu, memory: 30, timeMs: Date.now() }))),
    { qos: 1 },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3s-fleet-standalone-"));
  service = await startCoordinatorService(
    testServiceOptions({
      embeddedBroker: testBroker(await freePort()),
      topicRoot: root,
      scheduling: { storePath: join(dir, "scheduling.sqlite") },
      logger,
    }),
  );
  url = service.broker?.url ?? "";
  agents = await mqtt.connectAsync(url, { clientId: "fake-agents" });
  await announce("busy-agent", 4, 85);
  await announce("idle-agent", 4, 5);
  await until(() => service.coordinator.fleet.nodes.get("idle-agent")?.latest, 5000, "agents known");
  client = await connectRequester(url, root);
});

afterAll(async () => {
  await client?.close();
  await agents?.endAsync();
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("standalone scheduling", () => {
  it("gives advisory decisions from the agents' telemetry and creates nothing", async () => {
    expect(service.cluster).toBeUndefined();
    expect(service.scheduling?.mode).toBe("standalone");
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { cpuRequest: "1", memoryRequest: "1Gi" }),
    );
    expect(decision).toMatchObject({
      status: DecisionStatus.SCHEDULED,
      node: "idle-agent",
      advisory: true,
      podUid: "",
    });
    expect(decision.runnerUp).toBe("busy-agent");
    expect(decision.scores.map((s) => s.plugin)).toContain("live-load");
  });

  it("sizes agents from their births: a request larger than every agent is unschedulable", async () => {
    const decision = await client.request(
      scheduleRequest(root, client.clientId, { cpuRequest: "4", memoryRequest: "8Gi" }),
    );
    expect(decision.status).toBe(DecisionStatus.SCHEDULED); // 4 cores and 8 GiB: fits exactly
    await announce("tiny-agent", 1, 5);
    await until(() => service.coordinator.fleet.nodes.get("tiny-agent")?.latest, 5000, "tiny agent known");
    const none = await client.request(
      scheduleRequest(root, client.clientId, {
        cpuRequest: "4",
        memoryRequest: "8Gi",
        nodeSelector: { "kubernetes.io/hostname": "tiny-agent" },
      }),
    );
    expect(none).toMatchObject({ status: DecisionStatus.UNSCHEDULABLE, advisory: true });
    expect(none.message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it("leaves out an agent that went offline", async () => {
    await agents.publishAsync(
      topics.nodeStatus("idle-agent"),
      Buffer.from(encode("nodeStatus", status("offline", 1, Date.now()))),
      {
        qos: 1,
      },
    );
    await until(() => service.coordinator.fleet.nodes.get("idle-agent")?.offline, 5000, "agent offline");
    const decision = await client.request(scheduleRequest(root, client.clientId, { cpuRequest: "500m" }));
    expect(decision.node).not.toBe("idle-agent");
    expect(decision.rejections).toContainEqual(
      expect.objectContaining({
        node: "idle-agent",
        filter: "AgentTelemetry",
        reason: "node(s) had an offline agent",
      }),
    );
    await announce("idle-agent", 4, 5); // back for the next tests
    await until(() => !service.coordinator.fleet.nodes.get("idle-agent")?.offline, 5000, "agent back");
  });
});

describe("k3s-fleet schedule", () => {
  const cli = (args: string[]) =>
    runCliToEnd(["schedule", "--broker", url, "--timeout", "5s", ...args], {
      K3S_FLEET_LOGGING_LEVEL: "silent",
    });

  it("prints the decision with its reasoning and exits 0 when scheduled", async () => {
    const { code, stdout } = await cli([
      "--pod-name",
      "my-app",
      "--image",
      "nginx:latest",
      "--cpu",
      "500m",
      "--memory",
      "512Mi",
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SCHEDULED default\/my-app on idle-agent \(score \d+\) \[advisory\]$/m);
    expect(stdout).toContain("Reason: idle-agent: score");
    expect(stdout).toMatch(/Scores: .*live-load/);
    expect(stdout).toContain("Advisory: no Kubernetes cluster is connected; nothing was created.");
  });

  it("--json prints canonical proto3 JSON", async () => {
    const { code, stdout } = await cli(["--pod-name", "my-app", "--image", "nginx", "--json"]);
    expect(code).toBe(0);
    const decision = JSON.parse(stdout) as Record<string, unknown>;
    expect(decision).toMatchObject({ status: "DECISION_STATUS_SCHEDULED", advisory: true });
    expect(["idle-agent", "busy-agent", "tiny-agent"]).toContain(decision.node);
    expect(Array.isArray(decision.scores)).toBe(true);
    expect(typeof decision.requestId).toBe("string");
  });

  it("exits non-zero and says why when the request is refused or nothing fits", async () => {
    const refused = await cli(["--pod-name", "my-app", "--image", "nginx", "--namespace", "kube-system"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("REJECTED default/my-app".replace("default", "kube-system"));
    expect(refused.stdout).toContain('namespace "kube-system" is not allowed');
    const tooBig = await cli([
      "--pod-name",
      "my-app",
      "--image",
      "nginx",
      "--cpu",
      "4",
      "--node-selector",
      "kubernetes.io/hostname=tiny-agent",
    ]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stdout).toContain("UNSCHEDULABLE default/my-app");
    expect(tooBig.stdout).toContain("tiny-agent  NodeResourcesFit: Insufficient cpu");
  });

  it("exits non-zero at once, naming the broker, when nothing accepts the connection", async () => {
    const port = await freePort();
    const { code, stderr } = await runCliToEnd(
      [
        "schedule",
        "--broker",
        `mqtt://127.0.0.1:${port}`,
        "--timeout",
        "500ms",
        "--pod-name",
        "x",
        "--image",
        "nginx",
      ],
      { K3S_FLEET_LOGGING_LEVEL: "silent" },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/nothing accepts MQTT connections at mqtt:\/\/127\.0\.0\.1:\d+/);
  });
});
