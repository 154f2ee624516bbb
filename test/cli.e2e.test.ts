// The CLI as a user meets it: `up` (what `npm start` runs), `capture`, help and bad input.
import { mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

describe("k3s-fleet up", () => {
  it("runs broker, coordinator and local agent, prints a fleet report, and stops cleanly on Ctrl-C", async () => {
    const port = await freePort();
    const stateDir = mkdtempSync(join(tmpdir(), "k3sf-up-"));
    const up = runCli([
      "up",
      "--embedded-broker",
      `127.0.0.1:${port}`,
      "--interval",
      "500ms",
      "--report-interval",
      "1s",
      "--state-dir",
      stateDir,
    ]);
    try {
      await up.waitForStdout(
        /=== K3s Fleet Resource Summary ===[\s\S]*Fleet Health:[\s\S]*Online: 1/,
        20_000,
      );
      expect(up.stdout()).toContain(hostname());
      up.kill("SIGINT");
      expect(await up.exited).toBe(0);
    } finally {
      up.kill("SIGKILL");
    }
  });
});

describe("k3s-fleet capture", () => {
  it("prints a human-readable snapshot by default", async () => {
    const r = await runCliToEnd(["capture"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CPU Usage: \d+\.\d\d%/);
    expect(r.stdout).toMatch(/Memory Usage: \d+\.\d\d%/);
    expect(r.stdout).toContain(hostname());
  });

  it("prints canonical proto3 JSON with --json, indented with --pretty into --output", async () => {
    const r = await runCliToEnd(["capture", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const snap = JSON.parse(r.stdout);
    expect(snap.birth.hostname).toBe(hostname());
    expect(typeof snap.birth.memoryTotalBytes).toBe("string"); // uint64 as a string: canonical proto3 JSON
    expect(snap.telemetry.cpu.cores).toBeGreaterThan(0);
    const out = join(mkdtempSync(join(tmpdir(), "k3sf-cap-")), "snap.json");
    const p = await runCliToEnd(["capture", "--pretty", "--output", out]);
    expect(p.code).toBe(0);
    expect(p.stdout).toBe("");
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^\{\n {2}"birth": \{/);
    expect(JSON.parse(text).birth.hostname).toBe(hostname());
  });
});

describe("CLI input errors", () => {
  it("names every invalid setting and exits 2", async () => {
    const r = await runCliToEnd(["agent", "--interval", "often", "--broker", "http://nope"], {
      K3S_FLEET_COORDINATOR_STALE_AFTER_INTERVALS: "zero",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/agent\.interval: "often" is not a duration/);
    expect(r.stderr).toMatch(/broker\.url/);
    expect(r.stderr).toMatch(/coordinator\.staleAfterIntervals/);
  });

  it("documents every subcommand's flags in --help", async () => {
    const top = await runCliToEnd(["--help"]);
    for (const sub of ["up", "agent", "coordinator", "capture", "report"]) expect(top.stdout).toContain(sub);
    const agent = await runCliToEnd(["agent", "--help"]);
    for (const flag of ["--broker", "--node-name", "--interval", "--log-level", "--log", "--config"]) {
      expect(agent.stdout).toContain(flag);
    }
  });
});
