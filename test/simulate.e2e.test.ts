// The simulator from the CLI: `up --simulate N` (the demo) and `simulate` against a coordinator's broker.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

const stateDir = () => mkdtempSync(join(tmpdir(), "k3sf-sim-"));

describe("simulated fleets from the CLI", () => {
  it("`up --simulate 20` shows the local node and 20 virtual ones in the report", async () => {
    const port = await freePort();
    const up = runCli([
      "up",
      "--embedded-broker",
      `127.0.0.1:${port}`,
      "--simulate",
      "20",
      "--interval",
      "500ms",
      "--report-interval",
      "1s",
      "--standalone",
      "--state-dir",
      stateDir(),
    ]);
    try {
      await up.waitForStdout(/Total Nodes: 21 {3}Online: 2\d/, 30_000);
      expect(up.stdout()).toMatch(/sim-00020\s+ONLINE/);
      up.kill("SIGINT");
      expect(await up.exited).toBe(0);
    } finally {
      up.kill("SIGKILL");
    }
  });

  it("`simulate` publishes a fleet a separate coordinator reports, and `report` prints it", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const coordinator = runCli([
      "coordinator",
      "--embedded-broker",
      `127.0.0.1:${port}`,
      "--report-interval",
      "500ms",
      "--standalone",
      "--quiet",
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const sim = runCli([
      "simulate",
      "--nodes",
      "30",
      "--interval",
      "300ms",
      "--broker",
      url,
      "--prefix",
      "edge",
    ]);
    try {
      let json: { fleet?: { totalNodes?: number; onlineNodes?: number } } = {};
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && json.fleet?.onlineNodes !== 30) {
        const r = await runCliToEnd(["report", "--broker", url, "--json", "--timeout", "2s"]);
        if (r.code === 0) json = JSON.parse(r.stdout);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(json.fleet).toMatchObject({ totalNodes: 30, onlineNodes: 30 });
      sim.kill("SIGTERM");
      expect(await sim.exited).toBe(0);
    } finally {
      sim.kill("SIGKILL");
      coordinator.kill("SIGTERM");
      await coordinator.exited;
    }
  });

  it("names a bad --nodes value", async () => {
    const r = await runCliToEnd(["simulate", "--nodes", "0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--nodes.*expected a whole number/);
  });
});
