// docs/raspberry-pi-fleet.md, run: every k3s-fleet command of the guide, on one machine (127.0.0.1 for
// coordinator.lan, a temporary directory for /etc/k3s-fleet, `sh` for `sudo sh`): users, enrollment without
// copying a password, the fleet report, a replaced Pi, two Pis with one name, and `nodes forget`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, ROOT, runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

const GUIDE = readFileSync(join(ROOT, "docs", "raspberry-pi-fleet.md"), "utf8");
const running: CliProcess[] = [];
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
});

/** `k3s-fleet <subcommand>` used in the guide's code blocks. */
function guideSubcommands(): Set<string> {
  const blocks = [...GUIDE.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string).join("\n");
  return new Set([...blocks.matchAll(/k3s-fleet (nodes forget|[a-z]+)/g)].map((m) => m[1] as string));
}

/** Runs one printed enroll line as its node would, into `configDir` instead of /etc/k3s-fleet. */
function runEnrollLine(line: string, configDir: string): Record<string, string> {
  const encoded = /^printf %s '([A-Za-z0-9+/=]+)' \| base64 -d \| sudo sh {3}# (\S+)$/.exec(line);
  expect(encoded, line).not.toBeNull();
  const script = Buffer.from(encoded?.[1] ?? "", "base64").toString("utf8");
  execFileSync("sh", ["-c", script], { env: { ...process.env, K3SF_CONFIG_DIR: configDir } });
  const env = Object.fromEntries(
    readFileSync(join(configDir, "agent.env"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return env;
}

describe("docs/raspberry-pi-fleet.md", () => {
  it("uses only commands this test runs", () => {
    const ran = new Set(["passwd", "enroll", "report", "nodes forget"]);
    expect([...guideSubcommands()].filter((c) => !ran.has(c))).toEqual([]);
  });

  it("enrolls Pis without copying passwords, shows them, replaces one, stops a second Pi with the same name, forgets one", async () => {
    const etc = mkdtempSync(join(tmpdir(), "k3sf-guide-"));
    const users = join(etc, "users.yaml");
    const port = await freePort();
    const broker = `mqtt://127.0.0.1:${port}`;

    // 1. users on the coordinator
    const viewer = await runCliToEnd(["passwd", "viewer", "--file", users, "--role", "viewer"]);
    expect(viewer.code).toBe(0);
    const viewerPassword = /^password: (\S+)$/m.exec(viewer.stdout)?.[1] ?? "";
    const admin = await runCliToEnd(["passwd", "admin", "--file", users, "--role", "coordinator"]);
    const adminPassword = /^password: (\S+)$/m.exec(admin.stdout)?.[1] ?? "";

    // 3. enroll (the --ssh form prints ssh lines; without it, lines to run on each node)
    const viaSsh = await runCliToEnd([
      "enroll",
      "pi-01",
      "pi-02",
      "--file",
      users,
      "--broker",
      broker,
      "--ssh",
      "pi@{node}.local",
    ]);
    expect(viaSsh.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^printf %s '[A-Za-z0-9+/=]+' \| ssh pi@pi-01\.local 'base64 -d \| sudo sh' {3}# pi-01$/,
      ),
      expect.stringMatching(
        /^printf %s '[A-Za-z0-9+/=]+' \| ssh pi@pi-02\.local 'base64 -d \| sudo sh' {3}# pi-02$/,
      ),
    ]);
    const enrolled = await runCliToEnd(["enroll", "pi-01", "pi-02", "--file", users, "--broker", broker]);
    expect(enrolled.code).toBe(0);
    const lines = enrolled.stdout.trim().split("\n");
    const envOf = (node: string, line: string) => {
      const dir = join(etc, node);
      mkdirSync(dir, { recursive: true });
      return runEnrollLine(line, dir);
    };
    const pi1 = envOf("pi-01", lines[0] as string);
    const pi2 = envOf("pi-02", lines[1] as string);
    expect(pi1).toMatchObject({
      NODE_NAME: "pi-01",
      K3S_FLEET_BROKER_URL: broker,
      K3S_FLEET_BROKER_USERNAME: "pi-01",
    });
    expect(pi1.K3S_FLEET_BROKER_PASSWORD).not.toBe(pi2.K3S_FLEET_BROKER_PASSWORD);

    // 1. the coordinator, as coordinator.env configures it
    const startCoordinator = () => {
      const p = runCli(
        [
          ...["coordinator", "--embedded-broker", `127.0.0.1:${port}`, "--standalone", "--quiet"],
          ...["--http-listen", "off", "--report-interval", "1s"],
        ],
        { K3S_FLEET_BROKER_USERS_FILE: users },
      );
      running.push(p);
      return p;
    };
    let coordinator = startCoordinator();
    const agent = (env: Record<string, string>, stateDir: string) => {
      const p = runCli(["agent", "--interval", "500ms", "--state-dir", join(etc, stateDir)], env);
      running.push(p);
      return p;
    };
    agent(pi1, "state-pi-01");
    let agent2 = agent(pi2, "state-pi-02");

    // 4. the report, as the viewer
    const report = async () =>
      runCliToEnd([
        "report",
        "--broker",
        broker,
        "--username",
        "viewer",
        "--password",
        viewerPassword,
        "--timeout",
        "3s",
      ]);
    const untilReport = async (pattern: RegExp) => {
      const deadline = Date.now() + 40_000;
      for (;;) {
        const r = await report();
        if (pattern.test(r.stdout)) return r.stdout;
        if (Date.now() > deadline)
          throw new Error(`no report matching ${pattern}:\n${r.stdout}\n${r.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    await untilReport(/pi-01\s+ONLINE[\s\S]*|pi-02\s+ONLINE/);
    await untilReport(/(?=[\s\S]*pi-01\s+ONLINE)(?=[\s\S]*pi-02\s+ONLINE)/);

    // 6. replace pi-02: the old one is gone, the new one is enrolled again and starts from nothing
    agent2.kill("SIGKILL");
    await agent2.exited;
    const again = await runCliToEnd(["enroll", "pi-02", "--file", users, "--broker", broker]);
    const newPi2 = envOf("pi-02-new", again.stdout.trim());
    coordinator.kill("SIGTERM");
    await coordinator.exited;
    coordinator = startCoordinator();
    agent2 = agent(newPi2, "state-pi-02-new");
    await untilReport(/(?=[\s\S]*pi-01\s+ONLINE)(?=[\s\S]*pi-02\s+ONLINE)/);
    expect((await report()).stdout).not.toMatch(/NODE ID CONFLICT/);

    // Two Pis with one name: a second pi-01 (another machine, so another install) is told to stop.
    const second = agent(pi1, "state-second-pi-01");
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(
      'k3s-fleet agent: node id "pi-01" is in use by another machine (install ',
    );
    expect(second.stderr()).toContain("give this one its own name with --node-name or NODE_NAME");
    await untilReport(/pi-01\s+ONLINE.*NODE ID CONFLICT/);

    // 6. remove pi-02 for good
    agent2.kill("SIGTERM");
    await agent2.exited;
    const forget = await runCliToEnd([
      "nodes",
      "forget",
      "pi-02",
      "--broker",
      broker,
      "--username",
      "admin",
      "--password",
      adminPassword,
    ]);
    expect(forget.stderr).toBe("");
    expect(forget.code).toBe(0);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await report();
      if (/pi-01\s+ONLINE/.test(r.stdout) && !/pi-02/.test(r.stdout)) break;
      if (Date.now() > deadline) throw new Error(`pi-02 still in the report:\n${r.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 180_000);
});
