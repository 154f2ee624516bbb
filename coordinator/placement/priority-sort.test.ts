// PrioritySort: which due pod is decided first — as a pure choice, and through the pending-pod scheduler
// when several pods become due at once (FIFO would decide the first added).
import { describe, expect, it } from "vitest";
import { manualTimers } from "../../test/support/cluster.ts";
import { fakeKube, testCore } from "../../test/support/placement.ts";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import type { PodObject } from "./inputs.ts";
import { createPodScheduler } from "./pod-scheduler.ts";
import { dueFirst } from "./priority-sort.ts";

const pod = (name: string, priority?: number, created?: string): PodObject => {
  const p = makePod(name, { uid: `uid-${name}`, requests: [{ cpu: "1", memory: "128Mi" }] });
  return {
    ...p,
    metadata: { ...p.metadata, ...(created ? { creationTimestamp: created } : {}) },
    spec: { ...p.spec, schedulerName: "k3s-fleet", ...(priority === undefined ? {} : { priority }) },
  };
};

describe("dueFirst", () => {
  const pods = new Map<string, PodObject>([
    ["default/a", pod("a", 0, "2026-12-07T00:00:03Z")],
    ["default/b", pod("b", 100, "2026-12-07T00:00:02Z")],
    ["default/c", pod("c", 100, "2026-12-07T00:00:01Z")],
    ["default/d", pod("d", undefined, "2026-12-07T00:00:00Z")],
  ]);
  it.each<[string[], string | undefined]>([
    [[], undefined],
    [["default/a", "default/b", "default/c", "default/d"], "default/c"], // highest priority, then oldest
    [["default/a", "default/b"], "default/b"],
    [["default/a", "default/d"], "default/d"], // equal priority (unset is 0): older first
    [["default/a", "default/gone"], "default/gone"], // a key whose pod is gone is dropped at once
  ])("%j → %s", (due, expected) => {
    expect(dueFirst(new Set(due), pods)).toBe(expected);
  });
});

describe("the pending-pod queue decides the most important due pod first", () => {
  it("of three pods due at once on a node with room for one, binds the highest priority", async () => {
    const core = testCore(
      [{ node: makeNode("n1", { allocatable: capacity("1", "4Gi") }), pods: [] }],
      {},
      Date.now,
    );
    const pods = [pod("low", 0), pod("mid", 500), pod("high", 1000)];
    const k = fakeKube(pods);
    const clock = manualTimers();
    const scheduler = createPodScheduler({ core, kube: k.kube, timers: clock.timers, inFlight: new Set() });
    for (const p of pods) scheduler.podChanged("add", p);
    // Every pod becomes due before the serial queue runs its first attempt.
    while (clock.fireNext() !== undefined && clock.pending().length > 0);
    await core.queue.idle();
    expect(k.calls.filter((c) => c.startsWith("bind"))).toEqual([expect.stringContaining("high")]);
    scheduler.stop();
  });
});
