// `k3s-fleet up` serves its health and metrics endpoints where --http-listen says.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

describe("coordinator HTTP endpoints from the CLI", () => {
  it("serves /healthz, /readyz and /metrics with the local node online", async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const up = runCli([
      "up",
      "--embedded-broker",
      `127.0.0.1:${mqttPort}`,
      "--http-listen",
      `127.0.0.1:${httpPort}`,
      "--interval",
      "300ms",
      "--report-interval",
      "1s",
      "--standalone",
      "--quiet",
      "--state-dir",
      mkdtempSync(join(tmpdir(), "k3sf-http-")),
    ]);
    const base = `http://127.0.0.1:${httpPort}`;
    try {
      const deadline = Date.now() + 20_000;
      let metrics = "";
      while (Date.now() < deadline) {
        metrics = await fetch(`${base}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        if (
          /^k3sfleet_nodes\{state="online"\} 1$/m.test(metrics) &&
          /^k3sfleet_node_cpu_percent/m.test(metrics)
        )
          break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(metrics).toMatch(/^k3sfleet_nodes\{state="online"\} 1$/m);
      expect(metrics).toMatch(/^k3sfleet_node_cpu_percent\{node="[^"]+"\} \d/m);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.text()).toContain("[+]broker");
      up.kill("SIGINT");
      expect(await up.exited).toBe(0);
    } finally {
      up.kill("SIGKILL");
    }
  });

  it("`agent --metrics-listen` serves the agent's own metrics", async () => {
    const [mqttPort, metricsPort] = [await freePort(), await freePort()];
    const coordinator = runCli([
      "coordinator",
      "--embedded-broker",
      `127.0.0.1:${mqttPort}`,
      "--standalone",
      "--quiet",
    ]);
    const agent = runCli([
      "agent",
      "--broker",
      `mqtt://127.0.0.1:${mqttPort}`,
      "--node-name",
      "metrics-node",
      "--interval",
      "300ms",
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--state-dir",
      mkdtempSync(join(tmpdir(), "k3sf-agent-metrics-")),
    ]);
    try {
      const deadline = Date.now() + 20_000;
      let text = "";
      while (Date.now() < deadline) {
        text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        if (/^k3sfleet_agent_publishes_total\{kind="acknowledged",node="metrics-node"\} [1-9]/m.test(text))
          break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(text).toMatch(
        /^k3sfleet_agent_publishes_total\{kind="acknowledged",node="metrics-node"\} [1-9]/m,
      );
      expect(text).toMatch(/^k3sfleet_agent_samples_total\{result="taken",node="metrics-node"\} [1-9]/m);
      expect(text).toMatch(/^k3sfleet_agent_connected\{node="metrics-node"\} 1$/m);
      expect(text).toMatch(/^k3sfleet_agent_buffer_depth\{node="metrics-node"\} \d+$/m);
    } finally {
      agent.kill("SIGTERM");
      coordinator.kill("SIGTERM");
      await Promise.all([agent.exited, coordinator.exited]);
    }
  });
});
