import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../cli/config/load.ts";
import { AGENT_DEFAULTS, BUFFER_DEFAULTS } from "../test/support/defaults.ts";
import { type AgentOptions, agentOptionProblems } from "./agent.ts";

const base: AgentOptions = { ...AGENT_DEFAULTS, nodeId: "edge-01", logger: pino({ level: "silent" }) };

describe("agent buffer options", () => {
  it("accepts the defaults, and no buffer at all", () => {
    expect(agentOptionProblems({ ...base, buffer: { ...BUFFER_DEFAULTS } })).toEqual([]);
    expect(agentOptionProblems(base)).toEqual([]);
  });

  it("lists every unusable buffer setting", () => {
    const buffer = {
      maxSamples: 0.5,
      maxAgeMs: 10,
      replayPerSecond: 0,
      waitForCoordinator: true,
      redeliverMs: -1,
      settleMs: -1,
    };
    expect(agentOptionProblems({ ...base, buffer })).toEqual([
      expect.stringContaining("buffer bound 0.5 samples"),
      expect.stringContaining("buffer age bound 10 ms"),
      expect.stringContaining("buffer replay rate 0/s"),
      expect.stringContaining("redelivery window -1 ms"),
      expect.stringContaining("settle time -1 ms"),
    ]);
  });
});

describe("agent buffer settings in the CLI config", () => {
  const none = join(mkdtempSync(join(tmpdir(), "k3sf-buffer-config-")), "none.yaml");
  writeFileSync(none, "");

  it("defaults to a bounded buffer that waits for the coordinator", () => {
    expect(loadConfig({ file: none, env: {} }).agent).toMatchObject({
      bufferMaxSamples: 10_000,
      bufferMaxAge: 24 * 3_600_000,
      bufferReplayRate: 20,
      waitForCoordinator: true,
    });
  });

  it("takes them from the environment, and refuses nonsense", () => {
    const env = {
      K3S_FLEET_AGENT_BUFFER_MAX_SAMPLES: "0",
      K3S_FLEET_AGENT_BUFFER_MAX_AGE: "30m",
      K3S_FLEET_AGENT_BUFFER_REPLAY_RATE: "2.5",
      K3S_FLEET_AGENT_WAIT_FOR_COORDINATOR: "false",
    };
    expect(loadConfig({ file: none, env }).agent).toMatchObject({
      bufferMaxSamples: 0,
      bufferMaxAge: 1_800_000,
      bufferReplayRate: 2.5,
      waitForCoordinator: false,
    });
    expect(() => loadConfig({ file: none, env: { K3S_FLEET_AGENT_BUFFER_REPLAY_RATE: "0" } })).toThrow(
      /agent\.bufferReplayRate/,
    );
  });
});
