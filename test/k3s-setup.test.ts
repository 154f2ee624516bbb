// deploy/k3s/setup.sh (issue 11 item 6): the manifests it writes give every node, the coordinator and each
// scheduler / viewer user their own credentials, match what deploy/k3s's Deployments and DaemonSet mount,
// and work in a real Mosquitto set up as the broker pod sets itself up (mosquitto_passwd -U on the users).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { topicsFor } from "../proto/topics.ts";
import { ROOT } from "./support/cli.ts";
import { type MosquittoProcess, startMosquitto } from "./support/mosquitto.ts";
import { toolAvailable } from "./support/tools.ts";

const SCRIPT = join(ROOT, "deploy", "k3s", "setup.sh");
const K3S = join(ROOT, "deploy", "k3s");
const t = topicsFor("k3s-fleet/v1");

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

function runSetup(args: string[]) {
  return spawnSync("sh", [SCRIPT, ...args], { encoding: "utf8" });
}

/** Runs setup.sh --offline for three nodes, a scheduler and a viewer; returns the generated documents. */
function generate(dir: string): Doc[] {
  const result = runSetup([
    ...["--offline", "--nodes", "pi-01 pi-02 pi-03"],
    ...["--scheduler", "ops", "--viewer", "grafana", "--output", dir],
  ]);
  expect(result.status, result.stderr).toBe(0);
  return parseAllDocuments(readFileSync(join(dir, "credentials.yaml"), "utf8")).map((d) => d.toJS() as Doc);
}

describe("deploy/k3s/setup.sh", () => {
  let dir: string;
  let docs: Doc[];
  const byName = (name: string) => docs.find((d) => d.metadata.name === name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "k3sf-setup-"));
    docs = generate(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives every node, the coordinator and each named user a password of its own", () => {
    const agents = byName("k3s-fleet-agent-mqtt")?.stringData ?? {};
    expect(Object.keys(agents).sort()).toEqual(["pi-01", "pi-02", "pi-03"]);
    const coordinator = byName("k3s-fleet-coordinator-mqtt")?.stringData;
    expect(coordinator?.username).toBe("k3s-fleet-coordinator");
    expect(byName("k3s-fleet-user-ops")?.stringData?.username).toBe("ops");
    expect(byName("k3s-fleet-user-grafana")?.stringData?.username).toBe("grafana");
    const passwords = [
      ...Object.values(agents),
      coordinator?.password,
      byName("k3s-fleet-user-ops")?.stringData?.password,
      byName("k3s-fleet-user-grafana")?.stringData?.password,
    ];
    expect(new Set(passwords).size).toBe(6);
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9]{32}$/);
    const users = byName("k3s-fleet-broker-users")?.stringData?.users ?? "";
    expect(users.trim().split("\n").sort()).toEqual(
      [
        `grafana:${byName("k3s-fleet-user-grafana")?.stringData?.password}`,
        `k3s-fleet-coordinator:${coordinator?.password}`,
        `ops:${byName("k3s-fleet-user-ops")?.stringData?.password}`,
        ...Object.entries(agents).map(([node, p]) => `${node}:${p}`),
      ].sort(),
    );
    for (const d of docs) expect(d.metadata.namespace).toBe("k3s-fleet");
  });

  it("creates every Secret and ConfigMap the shipped manifests mount or reference", () => {
    const generated = new Set(docs.map((d) => d.metadata.name));
    const shipped = readdirSync(K3S)
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => parseAllDocuments(readFileSync(join(K3S, f), "utf8")).map((d) => d.toJS() as Doc));
    const shippedNames = new Set(shipped.map((d) => d.metadata?.name));
    const text = readdirSync(K3S)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => readFileSync(join(K3S, f), "utf8"))
      .join("\n");
    const referenced = [
      ...text.matchAll(/secretName: ([\w-]+)/g),
      ...text.matchAll(/secretKeyRef: \{ name: ([\w-]+)/g),
      ...text.matchAll(/configMap: \{ name: ([\w-]+)/g),
    ].map((m) => m[1] as string);
    expect(referenced).toEqual(
      expect.arrayContaining([
        "k3s-fleet-agent-mqtt",
        "k3s-fleet-coordinator-mqtt",
        "k3s-fleet-broker-users",
      ]),
    );
    for (const name of referenced) {
      expect(generated.has(name) || shippedNames.has(name), `${name} is created by nobody`).toBe(true);
    }
    // The coordinator reads key "password"; the agent reads the key named after its node.
    expect(text).toContain("secretKeyRef: { name: k3s-fleet-coordinator-mqtt, key: password }");
    expect(text).toContain("/run/k3s-fleet-mqtt/$(NODE_NAME)");
  });

  it("refuses a scheduler or viewer named like a node, and names that are not MQTT users", () => {
    const clash = runSetup(["--offline", "--nodes", "pi-01", "--viewer", "pi-01", "--output", dir]);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain("used twice");
    const bad = runSetup(["--offline", "--nodes", "pi/01", "--output", dir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("cannot be an MQTT user name");
  });
});

const haveTools = toolAvailable("mosquitto", "mosquitto") && toolAvailable("mosquitto_passwd", "mosquitto");
describe.skipIf(!haveTools)(
  "deploy/k3s/setup.sh's users and ACL in a real Mosquitto, set up as the broker pod does",
  () => {
    let dir: string;
    let docs: Doc[];
    const byName = (name: string) => docs.find((d) => d.metadata.name === name);
    let mosquitto: MosquittoProcess;
    const clients: MqttClient[] = [];
    const password = (user: string) =>
      /^[^:]+:(.*)$/m.exec(
        (byName("k3s-fleet-broker-users")?.stringData?.users ?? "")
          .split("\n")
          .find((l) => l.startsWith(`${user}:`)) ?? "",
      )?.[1] ?? "";
    const connect = async (username: string, clientId = `${username}-${clients.length}`) => {
      const client = await mqtt.connectAsync(mosquitto.url, {
        username,
        password: password(username),
        clientId,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "k3sf-setup-"));
      docs = generate(dir);
      const brokerDir = join(dir, "broker");
      mkdirSync(brokerDir);
      chmodSync(dir, 0o755); // Mosquitto drops to its own user before reading the files
      const users = join(brokerDir, "passwd");
      writeFileSync(users, byName("k3s-fleet-broker-users")?.stringData?.users ?? "");
      const hashed = spawnSync("mosquitto_passwd", ["-U", users], { encoding: "utf8" });
      expect(hashed.status, hashed.stderr).toBe(0);
      writeFileSync(join(brokerDir, "acl"), byName("k3s-fleet-broker-acl")?.data?.acl ?? "");
      chmodSync(brokerDir, 0o755);
      for (const file of ["passwd", "acl"]) chmodSync(join(brokerDir, file), 0o644);
      const conf = readFileSync(join(K3S, "30-broker.yaml"), "utf8");
      expect(conf).toContain("mosquitto_passwd -U /mosquitto/users/passwd");
      mosquitto = await startMosquitto([
        `password_file ${users}`,
        `acl_file ${join(brokerDir, "acl")}`,
        "allow_anonymous false",
      ]);
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await mosquitto?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("lets each node publish as itself only, schedulers ask for pods, viewers only read", async () => {
      const coordinator = await connect("k3s-fleet-coordinator");
      const seen: string[] = [];
      coordinator.on("message", (topic, payload) => seen.push(`${topic} ${payload}`));
      await coordinator.subscribeAsync([t.filters.allNodes, t.scheduleRequest], { qos: 1 });

      const pi1 = await connect("pi-01");
      await pi1.publishAsync(t.telemetry("pi-02"), "forged", { qos: 1 });
      await pi1.publishAsync(t.telemetry("pi-01"), "own", { qos: 1 });
      const grafana = await connect("grafana");
      await grafana.publishAsync(t.scheduleRequest, "from-viewer", { qos: 1 });
      const ops = await connect("ops");
      await ops.publishAsync(t.scheduleRequest, "from-scheduler", { qos: 1 });

      const deadline = Date.now() + 5000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.sort()).toEqual(
        [`${t.scheduleRequest} from-scheduler`, `${t.telemetry("pi-01")} own`].sort(),
      );

      // A node hears its own conflict notices (NodeIdConflict), which the coordinator may send.
      const heard: string[] = [];
      pi1.on("message", (topic) => heard.push(topic));
      await pi1.subscribeAsync([t.nodeConflict("pi-01")], { qos: 1 });
      await coordinator.publishAsync(t.nodeConflict("pi-01"), "notice", { qos: 1 });
      const until = Date.now() + 5000;
      while (heard.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual([t.nodeConflict("pi-01")]);
      const refused = await mqtt
        .connectAsync(mosquitto.url, {
          username: "pi-01",
          password: "wrong",
          protocolVersion: 4,
          reconnectPeriod: 0,
        })
        .then(
          (c) => {
            clients.push(c);
            return 0;
          },
          (error: { code?: number }) => error.code,
        );
      expect([4, 5]).toContain(refused);
    });
  },
);
