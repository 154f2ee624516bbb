// The bundled agent, dist/k3s-fleet-agent.mjs (scripts/build-agent.ts; issue 14): committed, so it must be
// what the sources give; it must leave out what the agent does not run; and it must work on its own
// (no node_modules next to it): capture, and a real agent against a real broker.
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJson } from "@bufbuild/protobuf";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../cli/main.ts";
import { startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import {
  createMessage,
  decode,
  encode,
  NodeSnapshotSchema,
  PeerState,
  parseTopic,
  timestamp,
  topicsFor,
} from "../proto/index.ts";
import { BUNDLE, buildAgentBundle, bundledInputs, FORBIDDEN, LEGAL } from "../scripts/build-agent.ts";
import { EMBEDDED_BROKER_DEFAULTS } from "../test/support/defaults.ts";
import { fakeHostRoot } from "../test/support/fake-host-root.ts";
import { AGENT_COMMANDS } from "./main.ts";

const silent = pino({ level: "silent" });

/** Runs the bundle from a directory of its own, as installed: nothing else beside it. */
async function runBundle(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000) {
  const child = spawn(process.execPath, [join(dir, "k3s-fleet-agent.mjs"), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | string>((resolve) =>
    child.once("exit", (c, signal) => resolve(c ?? signal ?? -1)),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("the bundled agent", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "k3sf-bundle-"));
    await copyFile(BUNDLE, join(dir, "k3s-fleet-agent.mjs"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is current: dist/ is what scripts/build-agent.ts makes of the sources (else: run it and commit)", async () => {
    const built = await buildAgentBundle();
    expect((await readFile(BUNDLE, "utf8")) === built.code, "dist/k3s-fleet-agent.mjs is stale").toBe(true);
    expect(await readFile(LEGAL, "utf8")).toBe(built.legal);
    const inputs = bundledInputs(built.metafile);
    expect(inputs.filter((input) => FORBIDDEN.some((f) => input.includes(f)))).toEqual([]);
    expect(inputs.some((input) => input.includes("agent/agent.ts"))).toBe(true);
  }, 60_000);

  it("takes the same flags as k3s-fleet agent and capture, and offers nothing else", async () => {
    const program = buildProgram();
    for (const name of ["agent", "capture"] as const) {
      const full = program.commands.find((c) => c.name() === name);
      const fullFlags = (full?.options ?? []).map((o) => o.long?.replace(/^--/, "")).sort();
      expect(
        Object.keys(AGENT_COMMANDS[name].flags)
          .filter((f) => f !== "help")
          .sort(),
        name,
      ).toEqual(fullFlags);
    }
    const other = await runBundle(dir, ["coordinator"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/agent-only/);
    const help = await runBundle(dir, ["--help"]);
    expect(help.stdout).toMatch(/agent .*\n.*capture/);
    expect(help.stdout).not.toMatch(/coordinator +|schedule +|simulate +/);
  });

  it("capture --json prints a NodeSnapshot of the host under agent.procRoot/sysRoot/rootfs", async () => {
    const roots = await fakeHostRoot(join(dir, "host"));
    const { code, stdout, stderr } = await runBundle(dir, ["capture", "--json", "--node-name", "pi"], {
      K3S_FLEET_AGENT_PROC_ROOT: roots.procRoot,
      K3S_FLEET_AGENT_SYS_ROOT: roots.sysRoot,
      K3S_FLEET_AGENT_ROOTFS: roots.rootfs,
    });
    expect(code, stderr).toBe(0);
    const snapshot = fromJson(NodeSnapshotSchema, JSON.parse(stdout));
    expect(snapshot.birth?.nodeId).toBe("pi");
    expect(snapshot.birth?.filesystems.map((f) => f.mount)).toEqual(["/srv/data"]);
    expect(snapshot.birth?.interfaces.map((i) => i.name)).toEqual(["enp1s0"]);
    expect(stderr).not.toMatch(/DeprecationWarning/);
  });

  it("an ordinary mistake (capture --output into a missing directory) is one line, no stack, exit 1", async () => {
    const missing = join(dir, "no-such-dir", "snapshot.json");
    const { code, stdout, stderr } = await runBundle(dir, ["capture", "--output", missing]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`k3s-fleet-agent: ${missing}: no such file or directory\n`);
  });

  it("agent: birth, online, telemetry from memory (no buffer writes), offline on SIGTERM", async () => {
    const broker = await startEmbeddedBroker({
      ...EMBEDDED_BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      logger: silent,
    });
    const root = "bundle/v1";
    const topics = topicsFor(root);
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await watcher.publishAsync(
        topics.coordinatorStatus,
        Buffer.from(
          encode(
            "coordinatorStatus",
            createMessage("coordinatorStatus", {
              state: PeerState.ONLINE,
              instanceId: "test",
              time: timestamp(Date.now() - 60_000),
            }),
          ),
        ),
        { qos: 1, retain: true },
      );
      const seen: string[] = [];
      watcher.on("message", (topic, payload) => {
        const parsed = parseTopic(root, topic);
        if (!parsed.ok || parsed.topic.kind === "coordinatorStatus") return;
        if (parsed.topic.kind === "nodeStatus") {
          const status = decode("nodeStatus", payload);
          seen.push(status.ok && status.message.state === PeerState.ONLINE ? "online" : "offline");
        } else seen.push(parsed.topic.kind);
      });
      await watcher.subscribeAsync(topics.filters.allNodes, { qos: 1 });
      const stateDir = join(dir, "state");
      const child = spawn(
        process.execPath,
        [
          join(dir, "k3s-fleet-agent.mjs"),
          ...["agent", "--broker", broker.url, "--topic-root", root, "--node-name", "bundled"],
          ...["--interval", "200ms", "--state-dir", stateDir, "--log-level", "warn"],
        ],
        { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH } },
      );
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const deadline = Date.now() + 15_000;
      while (seen.filter((s) => s === "telemetry").length < 5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGTERM");
      await exited;
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.slice(0, 3), stderr).toEqual(["birth", "online", "telemetry"]);
      expect(seen.at(-1)).toBe("offline");
      expect(stderr).toBe("");
      // The buffer exists (it would hold samples during an outage) but none went through it.
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(join(stateDir, "bundled.buffer.db"), { readOnly: true });
      // AUTOINCREMENT remembers the highest id ever handed out, even after the rows were deleted.
      const inserted = db.prepare("SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'samples'").get();
      const rows = db.prepare("SELECT count(*) AS n FROM samples").get();
      db.close();
      expect({ inserted, rows }).toEqual({ inserted: { n: 0 }, rows: { n: 0 } });
    } finally {
      await watcher.endAsync();
      await broker.close();
    }
  }, 30_000);
});
