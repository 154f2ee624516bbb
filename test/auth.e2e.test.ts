// The embedded broker's door, as an operator meets it: the CLI's users file, safe defaults, and roles.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "k3sf-auth-"));

async function addUser(file: string, name: string, role: string): Promise<string> {
  const r = await runCliToEnd(["passwd", name, "--file", file, "--role", role]);
  expect(r.code, r.stderr).toBe(0);
  return /password: (\S+)/.exec(r.stdout)?.[1] ?? "";
}

describe("embedded broker authentication from the CLI", () => {
  it("refuses to listen beyond loopback without a users file, and says why", async () => {
    const port = await freePort();
    const r = await runCliToEnd(["coordinator", "--embedded-broker", `0.0.0.0:${port}`, "--standalone"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/0\.0\.0\.0/);
    expect(r.stderr).toMatch(/users file|auth/i);
  });

  it("lets a node with the right password in, keeps a wrong password out, and runs `up` with auth on", async () => {
    const dir = tmp();
    const users = join(dir, "users.yaml");
    const good = await addUser(users, "edge-1", "node");
    await addUser(users, "edge-2", "node");
    const port = await freePort();
    const env = { K3S_FLEET_BROKER_USERS_FILE: users };
    const coordinator = runCli(
      ["coordinator", "--embedded-broker", `127.0.0.1:${port}`, "--report-interval", "500ms", "--standalone"],
      env,
    );
    const url = `mqtt://127.0.0.1:${port}`;
    const common = ["--interval", "300ms", "--state-dir", dir, "--broker", url];
    const ok = runCli([
      "agent",
      "--node-name",
      "edge-1",
      "--username",
      "edge-1",
      "--password",
      good,
      ...common,
    ]);
    const bad = runCli([
      "agent",
      "--node-name",
      "edge-2",
      "--username",
      "edge-2",
      "--password",
      "wrong",
      ...common,
    ]);
    try {
      await coordinator.waitForStdout(/edge-1\s+ONLINE/, 20_000);
      // Give the bad agent several report intervals: it must never appear.
      await new Promise((r) => setTimeout(r, 1500));
      expect(coordinator.stdout()).not.toMatch(/edge-2/);
    } finally {
      for (const p of [ok, bad, coordinator]) p.kill("SIGTERM");
      await Promise.all([ok.exited, bad.exited, coordinator.exited]);
    }

    const upPort = await freePort();
    const up = runCli(
      [
        "up",
        "--embedded-broker",
        `127.0.0.1:${upPort}`,
        "--interval",
        "300ms",
        "--report-interval",
        "500ms",
        "--state-dir",
        dir,
        "--standalone",
      ],
      env,
    );
    try {
      await up.waitForStdout(/Online: 1/, 20_000);
      up.kill("SIGINT");
      expect(await up.exited).toBe(0);
    } finally {
      up.kill("SIGKILL");
    }
  });
});
