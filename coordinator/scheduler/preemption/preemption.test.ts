// Table tests modelled on kube-scheduler's defaultpreemption tests (TestSelectNodesForPreemption,
// TestSelectBestCandidate, TestPodEligibleToPreemptOthers): the victims chosen on a node, the node
// chosen among candidates, and when preemption is refused.
import { describe, expect, it } from "vitest";
import { cpuSnapshot, prioPod } from "../../../test/support/preemption.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { DEFAULT_PLUGINS, schedule } from "../engine.ts";
import { EMPTY_STORAGE } from "../filters/volume-types.ts";
import type { Pod } from "../k8s-types.ts";
import type { PodInfo } from "../node-info.ts";
import type { Snapshot } from "../snapshot.ts";
import {
  candidatesWanted,
  NEVER_MESSAGE,
  NO_VICTIMS_REASON,
  NOT_HELPFUL_REASON,
  nominatedAgainst,
  type PodDisruptionBudget,
  pickOneNodeForPreemption,
  preempt,
  TERMINATING_MESSAGE,
  withNominatedPods,
} from "./index.ts";

const NOW = Date.parse("2026-12-07T00:00:00Z");
const LOW = 0;
const MID = 100;
const HIGH = 1000;

function run(snapshot: Snapshot, pod: Pod, pdbs: PodDisruptionBudget[] = []) {
  const decision = schedule(snapshot, pod, DEFAULT_SCHEDULER_CONFIG, NOW);
  expect(decision.status).toBe("unschedulable");
  return preempt({
    snapshot,
    pod,
    decision,
    config: DEFAULT_SCHEDULER_CONFIG,
    plugins: DEFAULT_PLUGINS,
    pdbs,
    now: NOW,
  });
}

const victimsOf = (r: ReturnType<typeof preempt>) =>
  r.status === "nominated"
    ? { node: r.node, victims: r.victims.map((v) => v.name), pdb: r.pdbViolations }
    : r;

const pdb = (name: string, app: string, allowed: number, disrupted: string[] = []): PodDisruptionBudget => ({
  metadata: { name, namespace: "default" },
  spec: { selector: { matchLabels: { app } } },
  status: {
    disruptionsAllowed: allowed,
    disruptedPods: Object.fromEntries(disrupted.map((d) => [d, "2026-12-07T00:00:00Z"])),
  },
});

describe("SelectVictimsOnNode", () => {
  it("a pod that does not fit on any node, even empty, preempts nothing", () => {
    const s = cpuSnapshot({ n1: "2", n2: "2" }, [prioPod("p1", { node: "n1", priority: LOW })]);
    const r = run(s, prioPod("big", { cpu: "3", priority: HIGH }));
    expect(r.status).toBe("none");
    if (r.status === "none") expect(r.message).toMatch(/^preemption: 0\/2 nodes are available: /);
  });

  it("a pod that fits on both nodes when lower priority pods are preempted: the first node, one victim", () => {
    const s = cpuSnapshot({ n1: "2", n2: "2" }, [
      prioPod("p1", { node: "n1", cpu: "2", priority: MID, start: NOW - 10 }),
      prioPod("p2", { node: "n2", cpu: "2", priority: MID, start: NOW - 10 }),
    ]);
    expect(victimsOf(run(s, prioPod("pre", { cpu: "2", priority: HIGH })))).toEqual({
      node: "n1",
      victims: ["p1"],
      pdb: 0,
    });
  });

  it("pods of equal or higher priority are never victims: No preemption victims found", () => {
    const s = cpuSnapshot({ n1: "2", n2: "2" }, [
      prioPod("p1", { node: "n1", cpu: "2", priority: HIGH }),
      prioPod("p2", { node: "n2", cpu: "2", priority: HIGH + 1 }),
    ]);
    expect(run(s, prioPod("pre", { cpu: "2", priority: HIGH }))).toEqual({
      status: "none",
      message: `preemption: 0/2 nodes are available: 2 ${NO_VICTIMS_REASON}.`,
      clearNomination: true,
    });
  });

  it("medium priority pod is preempted, but the small lower priority one stays", () => {
    const s = cpuSnapshot({ n1: "4" }, [
      prioPod("small-low", { node: "n1", cpu: "500m", priority: LOW }),
      prioPod("big-mid", { node: "n1", cpu: "3", priority: MID }),
    ]);
    // Reprieve goes most important first: big-mid back would not fit, small-low back does.
    expect(victimsOf(run(s, prioPod("pre", { cpu: "3", priority: HIGH })))).toEqual({
      node: "n1",
      victims: ["big-mid"],
      pdb: 0,
    });
  });

  it("mixed priority pods: the most important are reprieved first, victims listed most important first", () => {
    const s = cpuSnapshot({ n1: "4" }, [
      prioPod("a-low", { node: "n1", cpu: "1", priority: LOW }),
      prioPod("b-mid", { node: "n1", cpu: "1", priority: MID }),
      prioPod("c-mid", { node: "n1", cpu: "1", priority: MID + 1 }),
      prioPod("d-high", { node: "n1", cpu: "1", priority: HIGH }),
    ]);
    // Needs 3 cpu: d-high stays (not lower); c-mid reprieved (2 used); b-mid and a-low must go.
    expect(victimsOf(run(s, prioPod("pre", { cpu: "2", priority: HIGH })))).toEqual({
      node: "n1",
      victims: ["b-mid", "a-low"],
      pdb: 0,
    });
  });

  it("equal priorities: the pod that started earlier is reprieved first", () => {
    const s = cpuSnapshot({ n1: "2" }, [
      prioPod("late", { node: "n1", cpu: "1", priority: MID, start: NOW - 10 }),
      prioPod("early", { node: "n1", cpu: "1", priority: MID, start: NOW - 1000 }),
    ]);
    expect(victimsOf(run(s, prioPod("pre", { cpu: "1", priority: HIGH })))).toEqual({
      node: "n1",
      victims: ["late"],
      pdb: 0,
    });
  });

  it("preemption with violation of the same PDB: both victims, one violation", () => {
    // p1 uses the one allowed disruption, so p2 is the violating one: reprieved (and evicted) first.
    const s = cpuSnapshot({ n1: "2" }, [
      prioPod("p1", { node: "n1", cpu: "1", priority: LOW, labels: { app: "foo" } }),
      prioPod("p2", { node: "n1", cpu: "1", priority: LOW, labels: { app: "foo" } }),
    ]);
    expect(victimsOf(run(s, prioPod("pre", { cpu: "2", priority: HIGH }), [pdb("foo", "foo", 1)]))).toEqual({
      node: "n1",
      victims: ["p2", "p1"],
      pdb: 1,
    });
  });

  it("a victim already in the PDB's disruptedPods is not a violation", () => {
    const s = cpuSnapshot({ n1: "2" }, [
      prioPod("p1", { node: "n1", cpu: "1", priority: LOW, labels: { app: "foo" } }),
      prioPod("p2", { node: "n1", cpu: "1", priority: LOW, labels: { app: "foo" } }),
    ]);
    const r = run(s, prioPod("pre", { cpu: "2", priority: HIGH }), [pdb("foo", "foo", 1, ["p2"])]);
    expect(victimsOf(r)).toEqual({ node: "n1", victims: ["p1", "p2"], pdb: 0 });
  });

  it("PDB-violating victims are reprieved before the others, even when less important", () => {
    const s = cpuSnapshot({ n1: "2" }, [
      prioPod("guarded", { node: "n1", cpu: "1", priority: LOW, labels: { app: "db" } }),
      prioPod("free", { node: "n1", cpu: "1", priority: MID }),
    ]);
    // Only one must go; the guarded one (allowed 0) is put back first, so "free" is the victim.
    expect(victimsOf(run(s, prioPod("pre", { cpu: "1", priority: HIGH }), [pdb("db", "db", 0)]))).toEqual({
      node: "n1",
      victims: ["free"],
      pdb: 0,
    });
  });

  it("a PDB in another namespace or with an empty selector matches nothing", () => {
    const s = cpuSnapshot({ n1: "1" }, [
      prioPod("p1", { node: "n1", cpu: "1", priority: LOW, labels: { app: "foo" } }),
    ]);
    const other: PodDisruptionBudget = {
      ...pdb("x", "foo", 0),
      metadata: { name: "x", namespace: "kube-system" },
    };
    const empty: PodDisruptionBudget = { ...pdb("y", "foo", 0), spec: { selector: {} } };
    expect(victimsOf(run(s, prioPod("pre", { cpu: "1", priority: HIGH }), [other, empty]))).toEqual({
      node: "n1",
      victims: ["p1"],
      pdb: 0,
    });
  });

  it("leaves the snapshot as it found it (pods, order, request sums)", () => {
    const s = cpuSnapshot({ n1: "4", n2: "4" }, [
      prioPod("a", { node: "n1", cpu: "1", priority: LOW }),
      prioPod("b", { node: "n1", cpu: "2", priority: MID }),
      prioPod("c", { node: "n1", cpu: "1", priority: HIGH }),
      prioPod("d", { node: "n2", cpu: "3", priority: LOW }),
    ]);
    const before = s.nodes.map((n) => [n.name, n.pods.map((p) => p.key), n.reqCpu]);
    run(s, prioPod("pre", { cpu: "3", priority: HIGH }));
    expect(s.nodes.map((n) => [n.name, n.pods.map((p) => p.key), n.reqCpu])).toEqual(before);
  });
});

describe("nodes where preemption might help", () => {
  it("a node rejected by taint, unschedulable or node affinity is not a candidate", () => {
    const tainted = cpuSnapshot({ n1: "1" }, [prioPod("p1", { node: "n1", priority: LOW })], {
      spec: { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] },
    });
    expect(run(tainted, prioPod("pre", { priority: HIGH }))).toEqual({
      status: "none",
      message: `preemption: 0/1 nodes are available: 1 ${NOT_HELPFUL_REASON}.`,
      clearNomination: true,
    });
    const cordoned = cpuSnapshot({ n1: "1" }, [prioPod("p1", { node: "n1", priority: LOW })], {
      spec: { unschedulable: true },
    });
    expect(run(cordoned, prioPod("pre", { priority: HIGH })).status).toBe("none");
  });

  it("a pod whose claim is missing (VolumeRestrictions and VolumeBinding PreFilter) is not helped", () => {
    const s = cpuSnapshot({ n1: "1" }, [prioPod("p1", { node: "n1", priority: LOW })]);
    s.storage = EMPTY_STORAGE;
    const base = prioPod("pre", { priority: HIGH });
    const pod = {
      ...base,
      spec: { ...base.spec, volumes: [{ name: "d", persistentVolumeClaim: { claimName: "gone" } }] },
    };
    expect(run(s, pod)).toEqual({
      status: "none",
      message: `preemption: 0/1 nodes are available: 1 ${NOT_HELPFUL_REASON}.`,
      clearNomination: true,
    });
  });

  it("only the resolvable node is a candidate", () => {
    const s = cpuSnapshot({ n1: "1", n2: "1" }, [
      prioPod("p1", { node: "n1", priority: LOW }),
      prioPod("p2", { node: "n2", priority: LOW }),
    ]);
    const pod = {
      ...prioPod("pre", { priority: HIGH }),
      spec: { ...prioPod("pre", { priority: HIGH }).spec, nodeSelector: { "kubernetes.io/hostname": "n2" } },
    };
    expect(victimsOf(run(s, pod))).toEqual({ node: "n2", victims: ["p2"], pdb: 0 });
  });
});

describe("PodEligibleToPreemptOthers", () => {
  it("preemptionPolicy Never never preempts", () => {
    const s = cpuSnapshot({ n1: "1" }, [prioPod("p1", { node: "n1", priority: LOW })]);
    expect(run(s, prioPod("pre", { priority: HIGH, preemptionPolicy: "Never" }))).toEqual({
      status: "none",
      message: NEVER_MESSAGE,
      clearNomination: false,
    });
  });

  it("waits while a lower-priority pod on its nominated node is terminating", () => {
    const s = cpuSnapshot({ n1: "1", n2: "1" }, [
      prioPod("going", { node: "n1", priority: LOW, terminating: true }),
      prioPod("p2", { node: "n2", priority: LOW }),
    ]);
    expect(run(s, prioPod("pre", { priority: HIGH, nominated: "n1" }))).toEqual({
      status: "none",
      message: TERMINATING_MESSAGE,
      clearNomination: false,
    });
    // Without the nomination it preempts again (n1's terminating pod is a victim like any other).
    expect(run(s, prioPod("pre", { priority: HIGH })).status).toBe("nominated");
  });
});

describe("pickOneNodeForPreemption (TestSelectBestCandidate)", () => {
  const v = (priority: number, start?: number): PodInfo => ({ priority, startTime: start }) as PodInfo;
  const pick = (...c: Array<{ victims: PodInfo[]; pdb?: number }>) =>
    pickOneNodeForPreemption(
      c.map((x, i) => ({ node: `n${i + 1}`, victims: x.victims, pdbViolations: x.pdb ?? 0 })),
      NOW,
    );

  it("no candidates: -1", () => expect(pick()).toBe(-1));
  it("fewest PDB violations first, over lower priorities", () => {
    expect(pick({ victims: [v(LOW)], pdb: 1 }, { victims: [v(HIGH - 1), v(MID)] })).toBe(1);
  });
  it("node with the lowest highest-priority victim is picked", () => {
    expect(pick({ victims: [v(500), v(100)] }, { victims: [v(300)] }, { victims: [v(400), v(200)] })).toBe(1);
  });
  it("same highest priority: smallest sum of priorities", () => {
    expect(pick({ victims: [v(500), v(100)] }, { victims: [v(500), v(50)] })).toBe(1);
  });
  it("sum of adjusted priorities: negative priorities do not favour more victims", () => {
    // Unadjusted, -20 < -10 would pick n1; each victim adds 2^31, so n2's one victim is cheaper.
    expect(pick({ victims: [v(-10), v(-10)] }, { victims: [v(-10)] })).toBe(1);
  });
  it("same highest priority and sum: fewest victims", () => {
    // Sums with the shift: 2·(2^31) + 0 vs 1·(2^31) + 2^31 — equal; n2 has fewer victims.
    expect(pick({ victims: [v(0), v(0)] }, { victims: [v(2 ** 31)] }, { victims: [v(0), v(0)] })).toBe(0);
    expect(pick({ victims: [v(2 ** 31), v(0), v(0)] }, { victims: [v(2 ** 31), v(2 ** 31)] })).toBe(1);
  });
  it("all else equal: the latest start time of the highest-priority victims", () => {
    expect(pick({ victims: [v(MID, NOW - 300)] }, { victims: [v(MID, NOW - 100)] })).toBe(1);
    // The earliest among the highest-priority victims is what counts.
    expect(
      pick(
        { victims: [v(MID, NOW - 50), v(MID, NOW - 500)] },
        { victims: [v(MID, NOW - 100), v(MID, NOW - 200)] },
      ),
    ).toBe(1);
  });
  it("a victim not started yet counts as starting now", () => {
    expect(pick({ victims: [v(MID, NOW - 1)] }, { victims: [v(MID)] })).toBe(1);
  });
  it("complete tie: the first node", () => {
    expect(pick({ victims: [v(MID, NOW - 1)] }, { victims: [v(MID, NOW - 1)] })).toBe(0);
  });
});

describe("nominated pods hold their room (addNominatedPods)", () => {
  const decideWith = (s: Snapshot, pod: Pod, waiting: Pod[]) =>
    withNominatedPods(s, nominatedAgainst(pod, waiting), () =>
      schedule(s, pod, DEFAULT_SCHEDULER_CONFIG, NOW),
    );

  it("a pod of lower or equal priority does not take a node nominated to another", () => {
    const s = cpuSnapshot({ n1: "1" }, []);
    const waiting = [prioPod("vip", { priority: HIGH, nominated: "n1" })];
    expect(decideWith(s, prioPod("low", { priority: MID }), waiting).status).toBe("unschedulable");
    expect(decideWith(s, prioPod("peer", { priority: HIGH }), waiting).status).toBe("unschedulable");
    // A more important pod ignores the nomination, as in kube-scheduler.
    expect(decideWith(s, prioPod("top", { priority: HIGH + 1 }), waiting).node).toBe("n1");
    // The nominated pod itself is not held against itself, and the snapshot is as it was.
    expect(decideWith(s, waiting[0] as Pod, waiting).node).toBe("n1");
    expect(s.nodes[0]?.pods).toEqual([]);
  });

  it("a nomination to an unknown node holds nothing", () => {
    const s = cpuSnapshot({ n1: "1" }, []);
    const waiting = [prioPod("vip", { priority: HIGH, nominated: "gone" })];
    expect(decideWith(s, prioPod("low", { priority: MID }), waiting).node).toBe("n1");
  });
});

describe("DryRunPreemption's candidate count and offset", () => {
  it.each([
    [0, 0],
    [50, 50],
    [100, 100],
    [999, 100],
    [1500, 150],
    [5000, 500],
  ])("calculateNumCandidates(%i) = %i", (nodes, wanted) => {
    expect(candidatesWanted(nodes)).toBe(wanted);
  });

  // 150 full nodes, one victim each; the last node's victim has the lowest priority (the best candidate).
  const fleet = (labels: Record<string, string> = {}) => {
    const nodes: Record<string, string> = {};
    const pods: Pod[] = [];
    for (let i = 0; i < 150; i++) {
      const name = `n${String(i).padStart(3, "0")}`;
      nodes[name] = "1";
      pods.push(prioPod(`p${i}`, { node: name, priority: i === 149 ? LOW : MID, labels }));
    }
    return cpuSnapshot(nodes, pods);
  };
  const at = (offset: number, pdbs: PodDisruptionBudget[] = []) => {
    const s = fleet();
    const pod = prioPod("pre", { priority: HIGH });
    const decision = schedule(s, pod, DEFAULT_SCHEDULER_CONFIG, NOW);
    return preempt({
      snapshot: s,
      pod,
      decision,
      config: DEFAULT_SCHEDULER_CONFIG,
      plugins: DEFAULT_PLUGINS,
      pdbs,
      now: NOW,
      offset,
    });
  };

  it("stops once 100 candidates are found, from the offset on", () => {
    expect(victimsOf(at(0))).toMatchObject({ node: "n000" }); // n149 never examined
    expect(victimsOf(at(100))).toMatchObject({ node: "n149" }); // examined: n100..n149, n000..n049
  });

  it("goes on past 100 until a candidate violates no PodDisruptionBudget", () => {
    const s = fleet({ app: "guarded" });
    const pod = prioPod("pre", { priority: HIGH });
    const decision = schedule(s, pod, DEFAULT_SCHEDULER_CONFIG, NOW);
    // Every victim but the one on n120 is guarded by a budget that allows no disruption.
    const guard: PodDisruptionBudget = {
      metadata: { name: "g", namespace: "default" },
      spec: { selector: { matchExpressions: [{ key: "app", operator: "In", values: ["guarded"] }] } },
      status: { disruptionsAllowed: 0, disruptedPods: { p120: "2026-12-07T00:00:00Z" } },
    };
    const r = preempt({
      snapshot: s,
      pod,
      decision,
      config: DEFAULT_SCHEDULER_CONFIG,
      plugins: DEFAULT_PLUGINS,
      pdbs: [guard],
      now: NOW,
    });
    expect(victimsOf(r)).toEqual({ node: "n120", victims: ["p120"], pdb: 0 });
  });
});
