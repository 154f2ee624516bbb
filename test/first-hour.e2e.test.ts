// Issue 11, what a new operator hits in the first hour, through the real CLI: the first report can be
// fetched as soon as it is printed, and client commands that cannot connect or are refused say so at once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { usersFile } from "./support/auth.ts";
import { ROOT, runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

/** Killed after this long: a command that waited out its 60 s --timeout ends as SIGKILL, not 1. */
const SOON_MS = 20_000;

describe("k3s-fleet report right after npm start", () => {
  it("finds the report that is already on screen, long before the first report interval", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "k3sf-first-"));
    const up = runCli([
      ...["up", "--embedded-broker", `127.0.0.1:${port}`, "--standalone", "--interval", "500ms"],
      ...["--report-interval", "10m", "--state-dir", dir],
    ]);
    try {
      await up.waitForStdout(/Fleet Health:/, 20_000);
      const report = await runCliToEnd(
        ["report", "--broker", `mqtt://127.0.0.1:${port}`, "--timeout", "2s"],
        {},
        SOON_MS,
      );
      expect(report.stderr).toBe("");
      expect(report.code).toBe(0);
      expect(report.stdout).toContain("Fleet Health:");
    } finally {
      up.kill("SIGINT");
      await up.exited;
    }
  });
});

describe("client commands that cannot connect or are refused", () => {
  it("report: nothing listening says so at once", async () => {
    const port = await freePort();
    const r = await runCliToEnd(
      ["report", "--broker", `mqtt://127.0.0.1:${port}`, "--timeout", "60s"],
      {},
      SOON_MS,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing accepts MQTT connections at mqtt://127.0.0.1:${port}`);
  });

  it("a wrong password, and a viewer trying to schedule, are told at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-refused-"));
    const users = join(dir, "users.yaml");
    const viewer = "viewer-password";
    await usersFile(users, [{ username: "grafana", role: "viewer", password: viewer }]);
    const port = await freePort();
    const coordinator = runCli(
      ["coordinator", "--embedded-broker", `127.0.0.1:${port}`, "--standalone", "--quiet"],
      { K3S_FLEET_BROKER_USERS_FILE: users },
    );
    const url = `mqtt://127.0.0.1:${port}`;
    try {
      await waitForPort(port);
      const wrong = await runCliToEnd(
        ["report", "--broker", url, "--username", "grafana", "--password", "wrong", "--timeout", "60s"],
        {},
        SOON_MS,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/refused user "grafana": (bad user name or password|not authorized)/);

      const schedule = await runCliToEnd(
        [
          ...["schedule", "--broker", url, "--username", "grafana", "--password", viewer],
          ...["--pod-name", "p", "--image", "nginx:latest", "--dry-run", "--timeout", "60s"],
        ],
        {},
        SOON_MS,
      );
      expect(schedule.code).toBe(1);
      expect(schedule.stderr).toContain("this user may not schedule (it needs the scheduler role)");
    } finally {
      coordinator.kill("SIGTERM");
      await coordinator.exited;
    }
  });
});

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("ordinary mistakes get one line, no stack", () => {
  it("a port in use names the port, the cause and the flag that moves it", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const broker = await runCliToEnd(
        ["coordinator", "--standalone", "--embedded-broker", `127.0.0.1:${port}`, "--http-listen", "off"],
        {},
        SOON_MS,
      );
      expect(broker.code).toBe(1);
      expect(broker.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(broker.stderr).toContain("--embedded-broker");
      expect(broker.stderr).not.toMatch(/^\s+at /m);
      const free = await freePort();
      const http = await runCliToEnd(
        [
          ...["coordinator", "--standalone", "--embedded-broker", `127.0.0.1:${free}`],
          ...["--http-listen", `127.0.0.1:${port}`],
        ],
        {},
        SOON_MS,
      );
      expect(http.code).toBe(1);
      expect(http.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(http.stderr).toContain("--http-listen");
      expect(http.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it("a bad --output path is refused at start-up", async () => {
    const capture = await runCliToEnd(["capture", "--output", "/nonexistent-dir/snap.txt"], {}, SOON_MS);
    expect(capture).toMatchObject({ code: 1, stdout: "" });
    expect(capture.stderr.trim()).toBe("k3s-fleet: /nonexistent-dir/snap.txt: no such file or directory");
    const port = await freePort();
    const coordinator = await runCliToEnd(
      [
        ...["coordinator", "--standalone", "--embedded-broker", `127.0.0.1:${port}`, "--http-listen", "off"],
        ...["--output", "/nonexistent-dir/report.txt"],
      ],
      {},
      SOON_MS,
    );
    expect(coordinator.code).toBe(1);
    expect(coordinator.stderr.trim()).toBe(
      "k3s-fleet: /nonexistent-dir/report.txt: no such file or directory",
    );
  });
});

const haveScript = (await import("node:child_process")).spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!haveScript)("npm start on a terminal", () => {
  /** Runs `up` under script(1), which gives it a terminal, until `pattern` shows; returns what it printed. */
  async function onTerminal(extra: string[], pattern: RegExp): Promise<string> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "k3sf-tty-"));
    const { spawn } = await import("node:child_process");
    const command = [
      process.execPath,
      join(ROOT, "bin", "k3s-fleet.js"),
      ...["up", "--embedded-broker", `127.0.0.1:${port}`, "--http-listen", "off", "--standalone"],
      ...["--quiet", "--state-dir", dir, ...extra],
    ].join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    try {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return out;
    } finally {
      child.kill("SIGKILL");
    }
  }

  it("shows a short banner and readable logs, not JSON", async () => {
    const out = await onTerminal([], /Ctrl-C stops everything/);
    expect(out).toContain("k3s-fleet is up: MQTT broker mqtt://127.0.0.1:");
    expect(out).toContain("npx k3s-fleet report --broker mqtt://127.0.0.1:");
    expect(out).toMatch(/INFO.*coordinator started/);
    expect(out).not.toMatch(/^\{"level":/m);
  });

  it("--log-format json keeps JSON lines on a terminal, without the banner", async () => {
    const out = await onTerminal(["--log-format", "json"], /"msg":"agent started"/);
    expect(out).toMatch(/^\{"level":30,.*"msg":"coordinator started"/m);
    expect(out).not.toContain("k3s-fleet is up");
  });
});
