// Durations a user can mistype: one longer than a Node.js timer can wait used to be accepted and then fire
// every millisecond (TimeoutOverflowWarning: "Timeout duration was set to 1"), and a `--timeout` or
// `--day` that was not a duration was silently replaced by a default or ignored.
import { describe, expect, it } from "vitest";
import { MAX_TIMER_MS } from "../../cli/config/duration.ts";
import { type ConfigError, loadConfig } from "../../cli/config/load.ts";
import { runCliToEnd } from "../support/cli.ts";
import { freePort } from "../support/ports.ts";

const problems = (load: () => unknown): string => {
  try {
    load();
  } catch (error) {
    return (error as ConfigError).problems.join("\n");
  }
  return "accepted";
};

describe("durations that set a timer are bounded by what a timer can wait", () => {
  it("refuses an interval longer than about 24.8 days, from a flag, the environment or the file", () => {
    expect(problems(() => loadConfig({ env: {}, flags: { agent: { interval: "99999999h" } } }))).toBe(
      "agent.interval: 99999999h is longer than the maximum 2147483647ms (about 24.8 days, the longest a timer can wait)",
    );
    expect(problems(() => loadConfig({ env: { K3S_FLEET_COORDINATOR_REPORT_INTERVAL: "600h" } }))).toMatch(
      /coordinator\.reportInterval: 600h is longer than the maximum/,
    );
    expect(problems(() => loadConfig({ env: { K3S_FLEET_BROKER_KEEPALIVE: "596h" } }))).toBe("accepted");
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });

  it("leaves ages and retentions, which no timer waits for, free to be long", () => {
    const config = loadConfig({
      env: { K3S_FLEET_SCHEDULING_DECISION_RETENTION: "8760h", K3S_FLEET_AGENT_BUFFER_MAX_AGE: "1000h" },
    });
    expect(config.scheduling.decisionRetention).toBe(8760 * 3_600_000);
    expect(config.agent.bufferMaxAge).toBe(1000 * 3_600_000);
  });
});

describe("duration flags that are not settings are checked when parsed", () => {
  it.each([
    [
      ["top", "--once", "--timeout", "abc"],
      /--timeout <duration>' argument 'abc' is invalid\. "abc" is not a duration/,
    ],
    [["report", "--timeout", "-1s"], /--timeout <duration>' argument '-1s' is invalid/],
    [["report", "--timeout", "9999h"], /argument '9999h' is invalid\. 9999h is longer than the maximum/],
    [
      ["schedule", "--pod-name", "p", "--image", "nginx", "--timeout", "0"],
      /argument '0' is invalid\. 0 is shorter/,
    ],
    [["simulate", "--nodes", "1", "--day", "xyz"], /--day <duration>' argument 'xyz' is invalid/],
  ])("%j is refused before it connects", async (args, message) => {
    const port = await freePort();
    const r = await runCliToEnd([...args, "--broker", `mqtt://127.0.0.1:${port}`], {}, 15_000);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(1);
  });
});
