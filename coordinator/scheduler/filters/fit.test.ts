import { describe, expect, it } from "vitest";
import { makeNode, makePod, runFilter } from "../../../test/support/scheduler.ts";
import type { Pod } from "../k8s-types.ts";
import { nodeResourcesFit } from "./fit.ts";

// Node of 10 CPU, 20 memory units, 32 pods (kube-scheduler fit_test.go makeResources(10, 20, 32, ...)),
// already running pods that request cpu 5 / memory 19 → 5 cpu and 1 memory left.
const alloc = { cpu: "10m", memory: "20", pods: "32", "ephemeral-storage": "20", "example.com/aaa": "5" };
const existing = (requests: Record<string, string>[]): Pod[] =>
  requests.map((r, i) => makePod(`e${i}`, { requests: [r] }));
const fits = (
  pod: Pod,
  running: Pod[] = existing([{ cpu: "5m", memory: "19" }]),
  allocatable: Record<string, string> = alloc,
) => runFilter(nodeResourcesFit, { node: makeNode("n1", { allocatable }), pods: running }, pod);

describe("NodeResourcesFit filter (fit.go fitsRequest)", () => {
  const cases: Array<[string, Pod, string | readonly string[] | null]> = [
    ["no resources requested always fits", makePod("p"), null],
    [
      "too many resources fails (cpu and memory, both reported)",
      makePod("p", { requests: [{ cpu: "8m", memory: "19" }] }),
      ["Insufficient cpu", "Insufficient memory"],
    ],
    ["too many cpu", makePod("p", { requests: [{ cpu: "6m", memory: "1" }] }), "Insufficient cpu"],
    ["exactly what is left fits", makePod("p", { requests: [{ cpu: "5m", memory: "1" }] }), null],
    ["too much memory", makePod("p", { requests: [{ cpu: "1m", memory: "2" }] }), "Insufficient memory"],
    [
      "init container requests count (max with containers)",
      makePod("p", {
        requests: [{ cpu: "1m", memory: "1" }],
        initContainers: [{ resources: { requests: { cpu: "6m" } } }],
      }),
      "Insufficient cpu",
    ],
    [
      "sidecar init containers add up",
      makePod("p", {
        requests: [{ cpu: "3m", memory: "1" }],
        initContainers: [{ restartPolicy: "Always", resources: { requests: { cpu: "3m" } } }],
      }),
      "Insufficient cpu",
    ],
    [
      "overhead counts",
      makePod("p", { requests: [{ cpu: "3m", memory: "1" }], overhead: { cpu: "3m" } }),
      "Insufficient cpu",
    ],
    [
      "ephemeral storage",
      makePod("p", { requests: [{ "ephemeral-storage": "21" }] }),
      "Insufficient ephemeral-storage",
    ],
    [
      "extended resource",
      makePod("p", { requests: [{ "example.com/aaa": "6" }] }),
      "Insufficient example.com/aaa",
    ],
    [
      "extended resource the node does not have",
      makePod("p", { requests: [{ "example.com/bbb": "1" }] }),
      "Insufficient example.com/bbb",
    ],
    ["extended resource that fits", makePod("p", { requests: [{ "example.com/aaa": "5" }] }), null],
  ];
  it.each(cases)("%s", (_name, pod, want) => {
    expect(fits(pod)).toEqual(want);
  });

  it("counts pods: 'Too many pods' even for a pod that requests nothing", () => {
    const full = { ...alloc, pods: "1" };
    expect(fits(makePod("p"), existing([{ cpu: "1m" }]), full)).toBe("Too many pods");
    expect(fits(makePod("p", { requests: [{ cpu: "9m" }] }), existing([{ cpu: "1m" }]), full)).toBe(
      "Too many pods",
    );
    expect(fits(makePod("p", { requests: [{ cpu: "10m" }] }), existing([{ cpu: "1m" }]), full)).toEqual([
      "Too many pods",
      "Insufficient cpu",
    ]);
  });

  it("treats a node without a pods allocatable as full, as Kubernetes does", () => {
    expect(fits(makePod("p"), [], { cpu: "1", memory: "1Gi" })).toBe("Too many pods");
  });

  it("ignores Succeeded and Failed pods on the node", () => {
    const done = [
      makePod("d", { requests: [{ cpu: "10m" }], phase: "Succeeded" }),
      makePod("f", { requests: [{ cpu: "10m" }], phase: "Failed" }),
    ];
    expect(fits(makePod("p", { requests: [{ cpu: "10m" }] }), done)).toBeNull();
  });

  it("compares exactly beyond 2^53 (bigint path)", () => {
    const huge = { cpu: "1", memory: "9007199254740993", pods: "10" };
    expect(fits(makePod("p", { requests: [{ memory: "9007199254740993" }] }), [], huge)).toBeNull();
    expect(fits(makePod("p", { requests: [{ memory: "9007199254740994" }] }), [], huge)).toBe(
      "Insufficient memory",
    );
  });

  it("rounds fractional CPU up to milli-cores like MilliValue", () => {
    const node = { cpu: "1m", memory: "1", pods: "10" };
    expect(fits(makePod("p", { requests: [{ cpu: "0.0001" }] }), [], node)).toBeNull();
    expect(fits(makePod("p", { requests: [{ cpu: "0.0011" }] }), [], node)).toBe("Insufficient cpu");
  });
});
