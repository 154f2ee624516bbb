import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { buildSnapshot, createAssumeCache, type NodeInput, type Pod } from "../scheduler/index.ts";
import { clusterNodeInputs } from "./inputs.ts";
import { createSnapshotCache } from "./snapshot-cache.ts";

function setup(maxAgeMs = 10_000) {
  const nodes = [
    makeNode("a", { allocatable: capacity("4", "8Gi") }),
    makeNode("b", { allocatable: capacity("4", "8Gi") }),
  ];
  const pods: Pod[] = [makePod("existing", { uid: "u0", nodeName: "a", requests: [{ cpu: "1" }] })];
  const assumed = createAssumeCache();
  let builds = 0;
  const cache = createSnapshotCache({
    assumed,
    maxAgeMs,
    build: (input) => {
      builds++;
      return buildSnapshot(input);
    },
    source: (): NodeInput[] => clusterNodeInputs(nodes, pods, new Map()),
  });
  cache.seed(pods);
  return { nodes, pods, assumed, cache, builds: () => builds };
}

describe("snapshot cache", () => {
  it("builds once and reuses the snapshot until it is too old", () => {
    const { cache, builds } = setup(1000);
    const first = cache.get(0);
    expect(cache.get(999)).toBe(first);
    expect(builds()).toBe(1);
    expect(cache.get(1000)).not.toBe(first);
    expect(builds()).toBe(2);
  });

  it("ignores pod changes the snapshot does not depend on", () => {
    const { cache, builds } = setup();
    cache.get(0);
    cache.podChanged("add", makePod("pending", { uid: "u1" }));
    cache.podChanged("update", {
      ...makePod("existing", { uid: "u0", nodeName: "a" }),
      status: { phase: "Running" },
    });
    cache.podChanged("delete", makePod("pending", { uid: "u1" }));
    cache.get(1);
    expect(builds()).toBe(1);
  });

  it("a pod we placed showing up bound is a confirmation, not a change", () => {
    const { cache, assumed, builds } = setup();
    const snapshot = cache.get(0);
    const pod = makePod("ours", { uid: "u2", requests: [{ cpu: "1" }] });
    assumed.assume(snapshot, pod, "b", 0);
    cache.podChanged("update", { ...pod, spec: { ...pod.spec, nodeName: "b" } });
    expect(assumed.list()).toEqual([]);
    expect(cache.get(1)).toBe(snapshot);
    expect(snapshot.byName.get("b")?.reqCpu).toBe(1000);
    expect(builds()).toBe(1);
  });

  it("rebuilds when someone else binds, deletes or finishes a pod, or on invalidate", () => {
    const { cache, builds } = setup();
    cache.get(0);
    cache.podChanged("update", makePod("theirs", { uid: "u3", nodeName: "b" }));
    cache.get(1);
    cache.podChanged("update", makePod("existing", { uid: "u0", nodeName: "a", phase: "Succeeded" }));
    cache.get(2);
    cache.podChanged("delete", makePod("theirs", { uid: "u3", nodeName: "b" }));
    cache.get(3);
    cache.invalidate();
    cache.get(4);
    expect(builds()).toBe(5);
  });

  it("a pod we placed that is deleted before it is confirmed leaves the snapshot at once", () => {
    const { cache, assumed, builds } = setup();
    const snapshot = cache.get(0);
    const pod = makePod("ours", { uid: "u4", requests: [{ cpu: "2" }] });
    assumed.assume(snapshot, pod, "b", 0);
    cache.podChanged("delete", pod);
    expect(snapshot.byName.get("b")?.reqCpu).toBe(0);
    expect(cache.get(1)).toBe(snapshot);
    expect(builds()).toBe(1);
  });

  it("carries unconfirmed placements into a rebuilt snapshot", () => {
    const { cache, assumed } = setup();
    assumed.assume(cache.get(0), makePod("ours", { uid: "u5", requests: [{ cpu: "2" }] }), "b", 0);
    cache.invalidate();
    const rebuilt = cache.get(1);
    expect(rebuilt.byName.get("b")?.reqCpu).toBe(2000);
  });
});
