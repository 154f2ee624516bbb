// Ctrl-C (SIGINT) or SIGTERM while `up` is still starting: the process stops cleanly once everything is up
// (exit 0, the agent's and the coordinator's retained offline statuses), instead of dying on the signal with
// nothing said. The signal is sent at the first log line, before the broker listens.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./support/cli.ts";
import { until } from "./support/until.ts";

describe("a signal during start-up", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s at the first log line: `up` starts, then stops cleanly",
    async (signal) => {
      const stateDir = mkdtempSync(join(tmpdir(), "k3sf-startup-signal-"));
      const up = runCli(["up", "--embedded-broker", "127.0.0.1:0", "--state-dir", stateDir], {
        K3S_FLEET_LOGGING_LEVEL: "info",
        K3S_FLEET_LOGGING_FORMAT: "json",
      });
      const killer = setTimeout(() => up.kill("SIGKILL"), 20_000);
      await until(() => /"msg"/.test(up.stderr() + up.stdout()), 15_000, "the first log line");
      up.kill(signal);
      const code = await up.exited;
      clearTimeout(killer);
      expect(code, up.stderr()).toBe(0);
      expect(up.stderr() + up.stdout()).toMatch(/"msg":"agent started"/);
    },
    30_000,
  );
});
