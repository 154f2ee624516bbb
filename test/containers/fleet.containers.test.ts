// The project images for real: a Mosquitto container (the shipped deploy/mosquitto config and ACL, through
// deploy/docker/mosquitto-init.sh as in docker-compose.yml), the coordinator image and one agent image, all
// started with testcontainers; the agent must show up ONLINE in the coordinator's report.
//
// Needs a Docker engine and the images (k3s-fleet/{coordinator,agent}:<version>, eclipse-mosquitto:2): run
// through .ci/containers.sh, which builds them. Skipped unless K3SF_CONTAINERS=1. Host networking throughout
// (engines started with --bridge=none have no other), so every port is a free loopback port.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StartedTestContainer } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envVariables } from "../../cli/config/env.ts";
import { runCliToEnd } from "../support/cli.ts";
import { freePort } from "../support/ports.ts";
import { until } from "../support/until.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { version: string }).version;
const TAG = process.env.K3SF_IMAGE_TAG ?? VERSION;
const COORDINATOR_IMAGE = `k3s-fleet/coordinator:${TAG}`;
const AGENT_IMAGE = `k3s-fleet/agent:${TAG}`;
const MOSQUITTO_IMAGE = process.env.K3SF_MOSQUITTO_IMAGE ?? "eclipse-mosquitto:2";
const NODE_ID = "tc-edge-1";
const PASSWORDS = { coordinator: "tc-coordinator-pw", viewer: "tc-viewer-pw", [NODE_ID]: "tc-node-pw" };
// Does this checkout's config have http.listen yet? Then /healthz, /readyz and /metrics are checked too.
const HAS_HTTP = envVariables().some(([name]) => name === "K3S_FLEET_HTTP_LISTEN");

/** Collects a container's output (stdout and stderr) as it arrives. */
async function follow(container: StartedTestContainer): Promise<() => string> {
  let text = "";
  const stream = await container.logs();
  stream.on("data", (chunk: Buffer | string) => (text += chunk.toString()));
  stream.on("error", () => {});
  return () => text;
}

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

describe.skipIf(!process.env.K3SF_CONTAINERS)("project images (testcontainers)", () => {
  let broker: StartedTestContainer | undefined;
  let coordinator: StartedTestContainer | undefined;
  let agent: StartedTestContainer | undefined;
  let coordinatorLogs: () => string = () => "";
  let agentLogs: () => string = () => "";
  let mqttPort = 0;
  let httpPort = 0;

  beforeAll(async () => {
    // Loaded here, so that without K3SF_CONTAINERS the file needs no testcontainers installed.
    const { GenericContainer, Wait } = await import("testcontainers");
    mqttPort = await freePort();
    httpPort = await freePort();
    const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;

    broker = await new GenericContainer(MOSQUITTO_IMAGE)
      .withNetworkMode("host")
      .withEntrypoint(["/bin/sh", "/k3s-fleet/mosquitto-init.sh"])
      .withEnvironment({
        K3SF_MQTT_PORT: String(mqttPort),
        K3SF_MQTT_USERS: Object.entries(PASSWORDS)
          .map(([user, pw]) => `${user}:${pw}`)
          .join(" "),
      })
      .withCopyFilesToContainer([
        { source: `${ROOT}/deploy/mosquitto/mosquitto.conf`, target: "/k3s-fleet/mosquitto.conf" },
        { source: `${ROOT}/deploy/mosquitto/acl`, target: "/k3s-fleet/acl" },
        { source: `${ROOT}/deploy/docker/mosquitto-init.sh`, target: "/k3s-fleet/mosquitto-init.sh" },
      ])
      .withWaitStrategy(Wait.forLogMessage(/mosquitto version \S+ running/))
      .withStartupTimeout(30_000)
      .start();

    coordinator = await new GenericContainer(COORDINATOR_IMAGE)
      .withNetworkMode("host")
      .withCommand(["coordinator"])
      .withEnvironment({
        K3S_FLEET_BROKER_URL: brokerUrl,
        K3S_FLEET_BROKER_USERNAME: "coordinator",
        K3S_FLEET_BROKER_PASSWORD: PASSWORDS.coordinator,
        K3S_FLEET_K3S_STANDALONE: "true",
        K3S_FLEET_COORDINATOR_REPORT_INTERVAL: "1s",
        K3S_FLEET_AGENT_INTERVAL: "1s",
        K3S_FLEET_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      })
      .withWaitStrategy(Wait.forLogMessage(/coordinator started/))
      .withStartupTimeout(30_000)
      .start();
    coordinatorLogs = await follow(coordinator);

    agent = await new GenericContainer(AGENT_IMAGE)
      .withNetworkMode("host")
      .withCommand(["agent"])
      .withEnvironment({
        NODE_NAME: NODE_ID,
        K3S_FLEET_BROKER_URL: brokerUrl,
        K3S_FLEET_BROKER_USERNAME: NODE_ID,
        K3S_FLEET_BROKER_PASSWORD: PASSWORDS[NODE_ID],
        K3S_FLEET_AGENT_INTERVAL: "1s",
        K3S_FLEET_AGENT_LABELS: "zone=test",
      })
      .withWaitStrategy(Wait.forLogMessage(/agent started/))
      .withStartupTimeout(30_000)
      .start();
    agentLogs = await follow(agent);
  }, 120_000);

  afterAll(async () => {
    for (const container of [agent, coordinator, broker])
      await container?.stop({ timeout: 5_000 }).catch(() => {});
  }, 60_000);

  it("the coordinator's report shows the agent's node online", async () => {
    const line = await until(
      // ONLINE comes with the birth; wait for a report with the first telemetry in it.
      () => coordinatorLogs().match(new RegExp(`^.*${NODE_ID}\\s+ONLINE\\s+cpu \\d.*$`, "m"))?.[0],
      30_000,
      `${NODE_ID} ONLINE in the coordinator's report`,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\ncoordinator:\n${coordinatorLogs()}\nagent:\n${agentLogs()}`);
    });
    expect(line).toMatch(/mem \d/);
    expect(coordinatorLogs()).toMatch(/Total Nodes: 1\s+Online: 1/);
  });

  it("the retained report reaches a viewer through Mosquitto's ACL", async () => {
    const result = await runCliToEnd([
      "report",
      "--json",
      "--broker",
      `mqtt://127.0.0.1:${mqttPort}`,
      "--username",
      "viewer",
      "--password",
      PASSWORDS.viewer,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { nodes?: Array<{ nodeId?: string; health?: string }> };
    expect(report.nodes?.map((n) => n.nodeId)).toContain(NODE_ID);
  });

  it.runIf(HAS_HTTP)("serves /healthz, /readyz and the node's metrics on http.listen", async () => {
    const base = `http://127.0.0.1:${httpPort}`;
    expect((await get(`${base}/healthz`))?.status).toBe(200);
    await until(
      async () => ((await get(`${base}/readyz`))?.status === 200 ? true : undefined),
      15_000,
      "/readyz 200",
      250,
    );
    const metrics = await until(
      async () => {
        const res = await get(`${base}/metrics`);
        return res?.body.includes(`k3sfleet_node_cpu_percent{node="${NODE_ID}"}`) ? res.body : undefined;
      },
      15_000,
      `${NODE_ID} in /metrics`,
      250,
    );
    expect(metrics).toMatch(/^k3sfleet_nodes\{state="online"\} 1$/m);
    // The image's HEALTHCHECK command, run as Docker runs it.
    const probe = await coordinator?.exec(["node", "/app/deploy/docker/healthcheck.js"]);
    expect(probe?.exitCode, probe?.output).toBe(0);
  });

  it("the agent image runs as non-root, has no Kubernetes client, and its CLI works", async () => {
    const id = await agent?.exec(["id", "-u"]);
    expect(id?.output.trim()).toBe("10001");
    const kube = await agent?.exec(["sh", "-c", "test ! -e /app/node_modules/@kubernetes && echo absent"]);
    expect(kube?.output.trim()).toBe("absent");
    const help = await agent?.exec(["node", "/app/bin/k3s-fleet.js", "agent", "--help"]);
    expect(help?.exitCode, help?.output).toBe(0);
    expect(help?.output).toMatch(/sample this machine and publish telemetry/);
  });

  it("the coordinator image runs as non-root and has the Kubernetes client", async () => {
    const id = await coordinator?.exec(["id", "-u"]);
    expect(id?.output.trim()).toBe("10001");
    const kube = await coordinator?.exec([
      "test",
      "-f",
      "/app/node_modules/@kubernetes/client-node/package.json",
    ]);
    expect(kube?.exitCode).toBe(0);
  });

  it("a stopped agent container says goodbye: the node goes OFFLINE", async () => {
    await agent?.stop({ timeout: 10_000 });
    agent = undefined;
    await until(
      () => coordinatorLogs().match(new RegExp(`^.*${NODE_ID}\\s+OFFLINE.*$`, "m"))?.[0],
      20_000,
      `${NODE_ID} OFFLINE`,
      250,
    );
  });
});
