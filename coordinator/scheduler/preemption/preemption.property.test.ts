// Properties of DefaultPreemption over random clusters: it never evicts a pod of equal or higher
// priority, never evicts anything for a preemptionPolicy Never pod, the victims it picks make the pod fit
// on the nominated node, no single victim could have been spared (resources only, where fit is monotone),
// and the snapshot is left as it was.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cpuSnapshot, prioPod } from "../../../test/support/preemption.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { DEFAULT_PLUGINS, schedule } from "../engine.ts";
import type { Pod } from "../k8s-types.ts";
import { preempt } from "./index.ts";

const NOW = Date.parse("2026-12-07T00:00:00Z");
const PRIORITIES = [-10, 0, 100, 500, 1000];

const clusterArb = fc
  .record({
    nodes: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
    pods: fc.array(
      fc.record({
        node: fc.nat(),
        milli: fc.integer({ min: 100, max: 3000 }),
        priority: fc.constantFrom(...PRIORITIES),
        start: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
        app: fc.constantFrom("a", "b", undefined),
      }),
      { maxLength: 12 },
    ),
    preemptor: fc.record({
      milli: fc.integer({ min: 100, max: 6000 }),
      priority: fc.constantFrom(...PRIORITIES),
      never: fc.boolean(),
    }),
    pdbAllowed: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  })
  .map((c) => {
    const names = c.nodes.map((_, i) => `n${i}`);
    const pods: Pod[] = c.pods.map((p, i) =>
      prioPod(`p${i}`, {
        node: names[p.node % names.length] as string,
        cpu: `${p.milli}m`,
        priority: p.priority,
        ...(p.start === undefined ? {} : { start: NOW - p.start }),
        ...(p.app === undefined ? {} : { labels: { app: p.app } }),
      }),
    );
    const nodes = Object.fromEntries(names.map((n, i) => [n, String(c.nodes[i])]));
    const pod = prioPod("pre", {
      cpu: `${c.preemptor.milli}m`,
      priority: c.preemptor.priority,
      ...(c.preemptor.never ? { preemptionPolicy: "Never" } : {}),
    });
    const pdbs =
      c.pdbAllowed === undefined
        ? []
        : [
            {
              metadata: { name: "a", namespace: "default" },
              spec: { selector: { matchLabels: { app: "a" } } },
              status: { disruptionsAllowed: c.pdbAllowed },
            },
          ];
    return { nodes, pods, pod, pdbs };
  });

function attempt(c: { nodes: Record<string, string>; pods: Pod[]; pod: Pod; pdbs: object[] }) {
  const snapshot = cpuSnapshot(c.nodes, c.pods);
  const decision = schedule(snapshot, c.pod, DEFAULT_SCHEDULER_CONFIG, NOW);
  if (decision.status !== "unschedulable") return undefined;
  const before = snapshot.nodes.map((n) => [n.pods.map((p) => p.key), n.reqCpu, n.pods.length]);
  const result = preempt({
    snapshot,
    pod: c.pod,
    decision,
    config: DEFAULT_SCHEDULER_CONFIG,
    plugins: DEFAULT_PLUGINS,
    pdbs: c.pdbs,
    now: NOW,
  });
  expect(snapshot.nodes.map((n) => [n.pods.map((p) => p.key), n.reqCpu, n.pods.length])).toEqual(before);
  return result;
}

/** Whether `pod` fits on `node` when `gone` pods are removed from the cluster. */
function fitsWithout(
  c: { nodes: Record<string, string>; pods: Pod[]; pod: Pod },
  node: string,
  gone: Set<string>,
) {
  const left = c.pods.filter((p) => !gone.has(p.metadata?.name ?? ""));
  const d = schedule(cpuSnapshot(c.nodes, left), c.pod, DEFAULT_SCHEDULER_CONFIG, NOW);
  return d.status === "scheduled" && !d.rejections.some((r) => r.node === node);
}

describe("preemption properties", () => {
  it("evicts only strictly lower priorities, never for policy Never, and the victims make the pod fit", () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const result = attempt(c);
        if (result === undefined || result.status === "none") return;
        const priority = c.pod.spec?.priority ?? 0;
        expect(c.pod.spec?.preemptionPolicy).not.toBe("Never");
        expect(result.victims.length).toBeGreaterThan(0);
        for (const v of result.victims) {
          expect(v.priority).toBeLessThan(priority);
          const pod = c.pods.find((p) => p.metadata?.name === v.name);
          expect(pod?.spec?.nodeName).toBe(result.node);
        }
        const gone = new Set(result.victims.map((v) => v.name));
        expect(fitsWithout(c, result.node, gone)).toBe(true);
        // Fit on cpu is monotone, so every victim failed its reprieve for good: none could be spared.
        for (const v of gone)
          expect(fitsWithout(c, result.node, new Set([...gone].filter((g) => g !== v)))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("a preemptionPolicy Never pod never preempts", () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const pod = { ...c.pod, spec: { ...c.pod.spec, preemptionPolicy: "Never" } };
        const result = attempt({ ...c, pod });
        if (result !== undefined) expect(result.status).toBe("none");
      }),
      { numRuns: 200 },
    );
  });

  it("preempts whenever removing every lower-priority pod of some node would make the pod fit", () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        if (c.pod.spec?.preemptionPolicy === "Never") return;
        const result = attempt(c);
        if (result === undefined) return;
        const priority = c.pod.spec?.priority ?? 0;
        const possible = Object.keys(c.nodes).some((node) => {
          const lower = c.pods.filter((p) => p.spec?.nodeName === node && (p.spec?.priority ?? 0) < priority);
          return lower.length > 0 && fitsWithout(c, node, new Set(lower.map((p) => p.metadata?.name ?? "")));
        });
        expect(result.status).toBe(possible ? "nominated" : "none");
      }),
      { numRuns: 300 },
    );
  });
});
