// The scheduling settings the README documents are config keys, and reach the engine: set in the config
// file, they change decisions.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildSnapshot,
  createScheduler,
  type LiveTelemetry,
  type NodeInput,
} from "../../coordinator/scheduler/index.ts";
import { makeNode, makePod } from "../../test/support/scheduler.ts";
import { loadConfig } from "./load.ts";
import { schedulingSettings } from "./scheduling.ts";

function schedulerFrom(yaml: string) {
  const path = join(mkdtempSync(join(tmpdir(), "k3sf-scheduling-")), "config.yaml");
  writeFileSync(path, yaml);
  const settings = schedulingSettings(loadConfig({ file: path, env: {} }));
  if (settings === false) throw new Error("scheduling is off");
  return createScheduler({ config: settings.engine });
}

const live = (cpuPercent: number, o: Partial<LiveTelemetry> = {}): LiveTelemetry => ({
  online: true,
  ageMs: 0,
  intervalMs: 5000,
  cpuPercent,
  memoryPercent: 10,
  diskMaxPercent: 10,
  ...o,
});

const decide = (scheduler: ReturnType<typeof schedulerFrom>, nodes: NodeInput[], cpu = "100m") =>
  scheduler.evaluate(buildSnapshot({ nodes, takenAt: 0 }), makePod("p", { requests: [{ cpu }] }), 0);

describe("scheduling settings from the config file reach the engine", () => {
  it("scheduling.requireTelemetry rejects a node without an agent", () => {
    const nodes = [{ node: makeNode("no-agent") }];
    expect(decide(schedulerFrom(""), nodes).status).toBe("scheduled");
    expect(decide(schedulerFrom("scheduling:\n  requireTelemetry: true\n"), nodes).message).toBe(
      "0/1 nodes are available: 1 node(s) had no agent telemetry.",
    );
  });

  it("scheduling.pressure sets the live thresholds", () => {
    const nodes = [{ node: makeNode("warm"), live: live(60) }];
    expect(decide(schedulerFrom(""), nodes).status).toBe("scheduled");
    expect(decide(schedulerFrom("scheduling:\n  pressure:\n    cpuPercent: 50\n"), nodes).message).toBe(
      "0/1 nodes are available: 1 node(s) had cpu pressure.",
    );
  });

  it("scheduling.scoringStrategy: MostAllocated packs pods onto the fuller node", () => {
    const nodes: NodeInput[] = [
      { node: makeNode("empty"), pods: [] },
      {
        node: makeNode("half"),
        pods: [makePod("existing", { uid: "u1", nodeName: "half", requests: [{ cpu: "2", memory: "4Gi" }] })],
      },
    ];
    const only = "scheduling:\n  weights: { balancedAllocation: 0, spread: 0, liveLoad: 0 }\n";
    expect(decide(schedulerFrom(only), nodes).node).toBe("empty");
    const packing = decide(schedulerFrom(`${only}  scoringStrategy: MostAllocated\n`), nodes);
    expect(packing.node).toBe("half");
    expect(packing.scores?.map((s) => s.plugin)).toContain("most-allocated");
  });
});
