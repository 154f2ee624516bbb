import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod, runScore } from "../../../test/support/scheduler.ts";
import { resolveSchedulerConfig } from "../config.ts";
import type { Pod } from "../k8s-types.ts";
import type { NodeInput } from "../snapshot.ts";
import {
  balancedAllocation,
  leastRequestedScore,
  mostRequestedScore,
  resourceAllocation,
} from "./resource-allocation.ts";

const node = (name: string, cpu: string, memory: string, pods: Pod[] = []): NodeInput => ({
  node: makeNode(name, { allocatable: capacity(cpu, memory) }),
  pods,
});
const req = (...requests: Record<string, string>[]) => makePod(undefined, { requests });
const LEAST = resolveSchedulerConfig();
const MOST = resolveSchedulerConfig({ scoringStrategy: "MostAllocated" });
const MEMORY_TWICE = (strategy: "LeastAllocated" | "MostAllocated") =>
  resolveSchedulerConfig({
    scoringStrategy: strategy,
    resources: [
      { name: "memory", weight: 2 },
      { name: "cpu", weight: 1 },
    ],
  });
const cpuMem = () => req({ cpu: "1000", memory: "2000" }, { cpu: "2000", memory: "3000" });

// k8s least_allocated_test.go TestLeastAllocatedScoringStrategy
describe("LeastAllocated (NodeResourcesFit score)", () => {
  const cases: Array<[string, Pod, NodeInput[], number[], typeof LEAST?]> = [
    [
      "nothing scheduled, nothing requested",
      makePod(undefined),
      [node("node1", "4000", "10000"), node("node2", "4000", "10000")],
      [100, 100],
    ],
    [
      "nothing scheduled, resources requested, differently sized nodes",
      cpuMem(),
      [node("node1", "4000", "10000"), node("node2", "6000", "10000")],
      [37, 50],
    ],
    [
      "no resources requested, pods scheduled",
      makePod(undefined),
      [
        node("node1", "4000", "10000", [makePod("a"), makePod("b")]),
        node("node2", "4000", "10000", [makePod("c"), makePod("d")]),
      ],
      [100, 100],
    ],
    [
      "no resources requested, pods scheduled with resources",
      makePod(undefined),
      [
        node(
          "node1",
          "10000",
          "20000",
          [req({ cpu: "3000", memory: "0" }), req({ cpu: "3000", memory: "0" })].map((p, i) => ({
            ...p,
            metadata: { name: `a${i}` },
          })),
        ),
        node(
          "node2",
          "10000",
          "20000",
          [req({ cpu: "3000", memory: "0" }), req({ cpu: "3000", memory: "5000" })].map((p, i) => ({
            ...p,
            metadata: { name: `b${i}` },
          })),
        ),
      ],
      [70, 57],
    ],
    [
      "resources requested, pods scheduled with resources",
      cpuMem(),
      [
        node("node1", "10000", "20000", [req({ cpu: "3000", memory: "0" })]),
        node("node2", "10000", "20000", [req({ cpu: "3000", memory: "5000" })]),
      ],
      [57, 45],
    ],
    [
      "resources requested, pods scheduled with resources, differently sized nodes",
      cpuMem(),
      [
        node("node1", "10000", "20000", [req({ cpu: "3000", memory: "0" })]),
        node("node2", "10000", "50000", [req({ cpu: "3000", memory: "5000" })]),
      ],
      [57, 60],
    ],
    [
      "requested resources exceed node capacity",
      req({ cpu: "3000", memory: "0" }),
      [
        node("node1", "4000", "10000", [req({ cpu: "3000", memory: "0" })]),
        node("node2", "4000", "10000", [req({ cpu: "3000", memory: "5000" })]),
      ],
      [50, 25],
    ],
    [
      "zero node resources, pods scheduled with resources",
      makePod(undefined),
      [
        node("node1", "0", "0", [req({ cpu: "3000", memory: "0" })]),
        node("node2", "0", "0", [req({ cpu: "3000", memory: "5000" })]),
      ],
      [0, 0],
    ],
    [
      "different weights on cpu and memory",
      cpuMem(),
      [node("node1", "4000", "10000"), node("node2", "6000", "10000")],
      [41, 50],
      MEMORY_TWICE("LeastAllocated"),
    ],
  ];
  it.each(cases)("%s", (_name, pod, nodes, want, config = LEAST) => {
    expect(runScore(resourceAllocation, nodes, pod, config)).toEqual(want);
  });
});

// k8s most_allocated_test.go TestMostAllocatedScoringStrategy
describe("MostAllocated (NodeResourcesFit score)", () => {
  const cases: Array<[string, Pod, NodeInput[], number[], typeof MOST?]> = [
    [
      "nothing scheduled, nothing requested",
      makePod(undefined),
      [node("node1", "4000", "10000"), node("node2", "4000", "10000")],
      [0, 0],
    ],
    [
      "nothing scheduled, resources requested, differently sized nodes",
      cpuMem(),
      [node("node1", "4000", "10000"), node("node2", "6000", "10000")],
      [62, 50],
    ],
    [
      "no resources requested, pods scheduled with resources",
      makePod(undefined),
      [
        node("node1", "10000", "20000", [
          { ...req({ cpu: "3000", memory: "0" }), metadata: { name: "a" } },
          { ...req({ cpu: "3000", memory: "0" }), metadata: { name: "b" } },
        ]),
        node("node2", "10000", "20000", [
          { ...req({ cpu: "3000", memory: "0" }), metadata: { name: "c" } },
          { ...req({ cpu: "3000", memory: "5000" }), metadata: { name: "d" } },
        ]),
      ],
      [30, 42],
    ],
    [
      "resources requested, pods scheduled with resources",
      cpuMem(),
      [
        node("node1", "10000", "20000", [req({ cpu: "3000", memory: "0" })]),
        node("node2", "10000", "20000", [req({ cpu: "3000", memory: "5000" })]),
      ],
      [42, 55],
    ],
    [
      "resources requested equal node capacity",
      req({ cpu: "2000", memory: "4000" }, { cpu: "3000", memory: "5000" }),
      [node("node1", "5000", "10000"), node("node2", "10000", "9000")],
      [95, 75],
    ],
    [
      "different weights on cpu and memory",
      cpuMem(),
      [node("node1", "4000", "10000"), node("node2", "6000", "10000")],
      [58, 50],
      MEMORY_TWICE("MostAllocated"),
    ],
    [
      "no resources requested, pods scheduled, nonzero request for resource",
      makePod(undefined, { containers: [{ name: "container" }] }),
      [
        node("node1", "250m", "1000Mi", [
          makePod("a", { containers: [{ name: "container" }] }),
          makePod("b", { containers: [{ name: "container" }] }),
        ]),
        node("node2", "250m", "1000Mi"),
      ],
      [80, 30],
    ],
  ];
  it.each(cases)("%s", (_name, pod, nodes, want, config = MOST) => {
    expect(runScore(resourceAllocation, nodes, pod, config)).toEqual(want);
  });

  it("is named after the strategy", () => {
    expect(resourceAllocation.displayName?.(MOST)).toBe("most-allocated");
    expect(resourceAllocation.displayName?.(LEAST)).toBe("least-allocated");
  });
});

describe("per-resource formulas", () => {
  it("leastRequestedScore / mostRequestedScore match Go's int64 arithmetic", () => {
    expect(leastRequestedScore(3000, 4000)).toBe(25);
    expect(leastRequestedScore(5000, 4000)).toBe(0);
    expect(leastRequestedScore(0, 0)).toBe(0);
    expect(mostRequestedScore(5000, 4000)).toBe(100);
    expect(mostRequestedScore(1, 3)).toBe(33);
    // beyond the float-exact range the bigint path keeps the exact floor
    expect(leastRequestedScore(1, 2 ** 52)).toBe(99);
    expect(mostRequestedScore(2 ** 52 - 1, 2 ** 52)).toBe(99);
  });
});

// k8s balanced_allocation_test.go TestNodeResourcesBalancedAllocation (milli-CPU nodes, byte memory)
describe("BalancedAllocation", () => {
  const cpuAndMemory = () => req({ cpu: "1000m", memory: "2000" }, { cpu: "2000m", memory: "3000" });
  const cpuOnly = () => req({ cpu: "1000m", memory: "0" }, { cpu: "2000m", memory: "0" });
  const scheduled = (): [Pod[], Pod[]] => [
    [{ ...cpuOnly(), metadata: { name: "cpu-only" } }],
    [{ ...cpuAndMemory(), metadata: { name: "cpu-and-memory" } }],
  ];
  it("skips best-effort pods (PreScore Skip)", () => {
    expect(
      runScore(
        balancedAllocation,
        [node("node1", "4000m", "10000"), node("node2", "4000m", "10000")],
        makePod(undefined),
        LEAST,
      ),
    ).toBeUndefined();
  });
  const cases: Array<[string, Pod, NodeInput[], number[]]> = [
    [
      "nothing scheduled, resources requested, differently sized nodes",
      cpuAndMemory(),
      [node("node1", "4000m", "10000"), node("node2", "6000m", "10000")],
      [87, 100],
    ],
    [
      "resources requested, pods scheduled with resources",
      cpuAndMemory(),
      [node("node1", "10000m", "20000", scheduled()[0]), node("node2", "10000m", "20000", scheduled()[1])],
      [82, 95],
    ],
    [
      "resources requested, pods scheduled with resources, differently sized nodes",
      cpuAndMemory(),
      [node("node1", "10000m", "20000", scheduled()[0]), node("node2", "10000m", "50000", scheduled()[1])],
      [82, 80],
    ],
    [
      "requested resources at node capacity",
      cpuOnly(),
      [node("node1", "6000m", "10000", scheduled()[0]), node("node2", "6000m", "10000", scheduled()[1])],
      [50, 75],
    ],
  ];
  it.each(cases)("%s", (_name, pod, nodes, want) => {
    expect(runScore(balancedAllocation, nodes, pod, LEAST)).toEqual(want);
  });
});

describe("percentFloor exactness", () => {
  it("equals Go's int64 (a*100)/c for any capacity", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 1, max: 2 ** 32 }),
          fc.integer({ min: 2 ** 45, max: Math.floor(Number.MAX_SAFE_INTEGER / 100) }),
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (c, f) => {
          const requested = Math.floor(c * f);
          expect(leastRequestedScore(requested, c)).toBe(Number((BigInt(c - requested) * 100n) / BigInt(c)));
          expect(mostRequestedScore(requested, c)).toBe(Number((BigInt(requested) * 100n) / BigInt(c)));
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

// k8s least_allocated_test.go / most_allocated_test.go / balanced_allocation_test.go: extended resources
// in scoringStrategy.resources count only for a pod that requests them, and a node without the
// resource leaves it out of its weighted mean.
describe("extended resources in scoringStrategy.resources", () => {
  const EXT = "example.com/aaa";
  const withExt = (name: string, cpu: string, memory: string, ext?: string, pods: Pod[] = []): NodeInput => ({
    node: makeNode(name, { allocatable: capacity(cpu, memory, ext === undefined ? {} : { [EXT]: ext }) }),
    pods,
  });
  const extendedSet = (strategy: "LeastAllocated" | "MostAllocated") =>
    resolveSchedulerConfig({
      scoringStrategy: strategy,
      resources: [
        { name: "cpu", weight: 1 },
        { name: "memory", weight: 1 },
        { name: EXT, weight: 1 },
      ],
    });
  const cpuMemExt = () => req({ cpu: "3000", memory: "5000", [EXT]: "2" });
  const cases: Array<[string, Pod, NodeInput[], number[], typeof LEAST]> = [
    [
      "least: bypass extended resource if the pod does not request",
      cpuMem(),
      [withExt("node1", "6000", "10000"), withExt("node2", "6000", "10000", "4")],
      [50, 50],
      extendedSet("LeastAllocated"),
    ],
    [
      "least: honor extended resource if the pod requests",
      cpuMemExt(),
      [withExt("node1", "6000", "10000", "4"), withExt("node2", "6000", "10000", "10")],
      [50, 60],
      extendedSet("LeastAllocated"),
    ],
    [
      "least: if the node doesn't have a resource",
      req({ cpu: "3000", memory: "4000" }),
      [withExt("node1", "6000", "10000"), withExt("node2", "6000", "10000", "4")],
      [55, 55],
      resolveSchedulerConfig({
        resources: [
          { name: EXT, weight: 2 },
          { name: "cpu", weight: 1 },
          { name: "memory", weight: 1 },
        ],
      }),
    ],
    [
      "most: bypass extended resource if the pod does not request",
      cpuMem(),
      [withExt("node1", "6000", "10000"), withExt("node2", "6000", "10000", "4")],
      [50, 50],
      extendedSet("MostAllocated"),
    ],
    [
      "most: honor extended resource if the pod requests",
      cpuMemExt(),
      [withExt("node1", "6000", "10000", "4"), withExt("node2", "6000", "10000", "10")],
      [50, 40],
      extendedSet("MostAllocated"),
    ],
  ];
  it.each(cases)("%s", (_name, pod, nodes, want, config) => {
    expect(runScore(resourceAllocation, nodes, pod, config)).toEqual(want);
  });

  it("a GPU weighted 5 steers a GPU pod to the node with more GPUs free", () => {
    const config = resolveSchedulerConfig({
      resources: [
        { name: "cpu", weight: 1 },
        { name: "memory", weight: 1 },
        { name: "nvidia.com/gpu", weight: 5 },
      ],
    });
    const gpu = (name: string, free: string) => ({
      node: makeNode(name, { allocatable: capacity("8", "16Gi", { "nvidia.com/gpu": free }) }),
    });
    const pod = req({ cpu: "1", memory: "1Gi", "nvidia.com/gpu": "1" });
    // cpu (8-1)/8 → 87, memory (16-1)/16 → 93; gpu (2-1)/2 → 50 vs (8-1)/8 → 87.
    expect(runScore(resourceAllocation, [gpu("small", "2"), gpu("big", "8")], pod, config)).toEqual([
      Math.floor((87 + 93 + 50 * 5) / 7),
      Math.floor((87 + 93 + 87 * 5) / 7),
    ]);
  });

  it("BalancedAllocation includes a requested extended resource (balanced_allocation_test.go)", () => {
    const config = resolveSchedulerConfig({
      resources: [
        { name: "cpu", weight: 1 },
        { name: "memory", weight: 1 },
        { name: "nvidia.com/gpu", weight: 1 },
      ],
    });
    const gpuNode = (name: string, pods: Pod[]): NodeInput => ({
      node: makeNode(name, { allocatable: capacity("3500m", "40000", { "nvidia.com/gpu": "8" }) }),
      pods,
    });
    const onNode = (name: string, gpus?: string) =>
      makePod(name, {
        requests: [
          { cpu: "1000m", memory: "2000" },
          gpus === undefined
            ? { cpu: "2000m", memory: "3000" }
            : { cpu: "2000m", memory: "3000", "nvidia.com/gpu": gpus },
        ],
      });
    const pod = req({ memory: "0", "nvidia.com/gpu": "1" });
    const nodes = [gpuNode("node1", [onNode("p1", "3")]), gpuNode("node2", [onNode("p2")])];
    expect(runScore(balancedAllocation, nodes, pod, config)).toEqual([70, 65]);
    // The same pod without the GPU request is best-effort: PreScore Skip.
    expect(runScore(balancedAllocation, nodes, req({ memory: "0" }), config)).toBeUndefined();
  });

  it("config refuses an unknown resource name and a resource listed twice", () => {
    expect(() => resolveSchedulerConfig({ resources: [{ name: "gpu", weight: 1 }] })).toThrow(
      /resources\[0\]\.name: "gpu" is not cpu, memory, ephemeral-storage or an extended resource/,
    );
    expect(() =>
      resolveSchedulerConfig({
        resources: [
          { name: "nvidia.com/gpu", weight: 1 },
          { name: "nvidia.com/gpu", weight: 2 },
        ],
      }),
    ).toThrow(/resources\[1\]\.name "nvidia.com\/gpu" is listed twice/);
  });
});
