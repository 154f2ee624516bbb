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

  it("scheduling.scoringResources scores an extended resource with its weight (file and env)", () => {
    const gpu = (name: string, free: string): NodeInput => ({
      node: makeNode(name, {
        allocatable: { cpu: "8", memory: "16Gi", pods: "110", "nvidia.com/gpu": free },
      }),
    });
    const nodes = [gpu("few-gpus", "2"), gpu("many-gpus", "8")];
    const pod = makePod("p", { requests: [{ cpu: "7", memory: "1Gi", "nvidia.com/gpu": "1" }] });
    const only = "scheduling:\n  weights: { balancedAllocation: 0, spread: 0, liveLoad: 0 }\n";
    const at = (yaml: string) =>
      schedulerFrom(yaml).evaluate(buildSnapshot({ nodes, takenAt: 0 }), pod, 0).scores?.[0]?.score;
    // cpu and memory alike on both nodes: the GPU term alone tells them apart.
    expect(at(only)).toBe(at(`${only}  scoringResources: { cpu: 1, memory: 1 }\n`));
    const withGpu = `${only}  scoringResources: { cpu: 1, memory: 1, nvidia.com/gpu: 5 }\n`;
    const d = schedulerFrom(withGpu).evaluate(buildSnapshot({ nodes, takenAt: 0 }), pod, 0);
    expect(d.node).toBe("many-gpus");
    expect(d.runnerUp?.score).toBeLessThan(d.score as number);
    const fromEnv = loadConfig({ env: { K3S_FLEET_SCHEDULING_SCORING_RESOURCES: "cpu=1,nvidia.com/gpu=5" } });
    expect(fromEnv.scheduling.scoringResources).toEqual([
      { name: "cpu", weight: 1 },
      { name: "nvidia.com/gpu", weight: 5 },
    ]);
  });

  it("scheduling.hardPodAffinityWeight reaches the inter-pod affinity score", () => {
    const settings = (yaml: string) => {
      const path = join(mkdtempSync(join(tmpdir(), "k3sf-scheduling-")), "config.yaml");
      writeFileSync(path, yaml);
      const s = schedulingSettings(loadConfig({ file: path, env: {} }));
      if (s === false) throw new Error("scheduling is off");
      return s.engine;
    };
    expect(settings("").interPodAffinity?.hardPodAffinityWeight).toBe(1);
    expect(
      settings("scheduling:\n  hardPodAffinityWeight: 7\n").interPodAffinity?.hardPodAffinityWeight,
    ).toBe(7);
  });

  it("scheduling.addedAffinity keeps every pod off nodes outside it", () => {
    const nodes = [
      { node: makeNode("amd", { labels: { arch: "amd64" } }) },
      { node: makeNode("arm", { labels: { arch: "arm64" } }) },
    ];
    const yaml = `scheduling:
  addedAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions: [{ key: arch, operator: In, values: [arm64] }]
`;
    const d = decide(schedulerFrom(yaml), nodes);
    expect(d.node).toBe("arm");
    expect(d.rejections).toEqual([
      {
        node: "amd",
        filter: "NodeAffinity",
        reason: "node(s) didn't match scheduler-enforced node affinity",
      },
    ]);
  });
});

describe("bad scheduling values name their key", () => {
  const problems = (env: Record<string, string>): string => {
    try {
      schedulingSettings(loadConfig({ env }));
      return "";
    } catch (err) {
      return String((err as Error).message);
    }
  };
  it.each([
    [
      { K3S_FLEET_SCHEDULING_SCORING_RESOURCES: "gpu=1" },
      /scheduling\.scoringResources[\s\S]*"gpu" is not cpu, memory/,
    ],
    [
      { K3S_FLEET_SCHEDULING_SCORING_RESOURCES: "cpu=0" },
      /scheduling\.scoringResources[\s\S]*cpu: weight must be an integer from 1 to 100/,
    ],
    [{ K3S_FLEET_SCHEDULING_HARD_POD_AFFINITY_WEIGHT: "101" }, /scheduling\.hardPodAffinityWeight/],
    [{ K3S_FLEET_SCHEDULING_ADDED_AFFINITY: "{not json" }, /scheduling\.addedAffinity[\s\S]*is not JSON/],
    [
      {
        K3S_FLEET_SCHEDULING_ADDED_AFFINITY:
          '{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":500}]}',
      },
      /scheduling\.addedAffinity[\s\S]*weight must be an integer from 1 to 100, got 500/,
    ],
  ])("%o", (env, message) => {
    expect(problems(env)).toMatch(message);
  });
});
