// Properties of InterPodAffinity, PodTopologySpread and NodePorts over random fleets and random pod sequences, checked
// against a naive re-computation from the raw pods: a chosen node never violates a required constraint
// (the pod's own affinity / anti-affinity, existing pods' anti-affinity, zone spread, host ports), and a pod is
// refused only when every node violates one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "./config.ts";
import { schedule } from "./engine.ts";
import type { Node, Pod, PodAffinityTerm } from "./k8s-types.ts";
import { createScheduler } from "./scheduler.ts";
import { buildSnapshot } from "./snapshot.ts";

const HOST = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";

interface Spec {
  app: string;
  anti: Array<{ app: string; key: string }>;
  affinity: Array<{ app: string; key: string }>;
  port: number | undefined;
  /** maxSkew of a DoNotSchedule zone spread constraint over the pod's app. */
  zoneSkew: number | undefined;
}

const termArb = fc.record({ app: fc.constantFrom("a", "b", "c"), key: fc.constantFrom(HOST, ZONE) });
const specArb: fc.Arbitrary<Spec> = fc.record({
  app: fc.constantFrom("a", "b", "c"),
  anti: fc.array(termArb, { maxLength: 2 }),
  affinity: fc.array(termArb, { maxLength: 1 }),
  port: fc.option(fc.constantFrom(80, 443), { nil: undefined }),
  zoneSkew: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
});

const toTerm = (t: { app: string; key: string }): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app: t.app } },
  topologyKey: t.key,
});
const toPod = (s: Spec, i: number): Pod => ({
  metadata: { name: `p${i}`, namespace: "default", labels: { app: s.app } },
  spec: {
    containers: [{ name: "c", ...(s.port ? { ports: [{ containerPort: s.port, hostPort: s.port }] } : {}) }],
    affinity: {
      ...(s.anti.length
        ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: s.anti.map(toTerm) } }
        : {}),
      ...(s.affinity.length
        ? { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: s.affinity.map(toTerm) } }
        : {}),
    },
    ...(s.zoneSkew
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: s.zoneSkew,
              topologyKey: ZONE,
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app: s.app } },
            },
          ],
        }
      : {}),
  },
});

/** Naive: does placing `s` on `node` violate a required constraint, given `placed`? */
function violates(
  s: Spec,
  node: Node,
  placed: ReadonlyArray<{ spec: Spec; node: Node }>,
  nodes: readonly Node[],
): boolean {
  const label = (n: Node, key: string) => n.metadata.labels?.[key];
  const sameDomain = (a: Node, b: Node, key: string) =>
    label(a, key) !== undefined && label(a, key) === label(b, key);
  for (const t of s.anti)
    if (placed.some((p) => p.spec.app === t.app && sameDomain(node, p.node, t.key))) return true;
  for (const p of placed)
    for (const t of p.spec.anti) if (t.app === s.app && sameDomain(node, p.node, t.key)) return true;
  if (s.port !== undefined && placed.some((p) => p.node === node && p.spec.port === s.port)) return true;
  if (s.zoneSkew !== undefined) {
    const zone = label(node, ZONE);
    if (zone === undefined) return true;
    const zones = [...new Set(nodes.map((n) => label(n, ZONE)).filter((z) => z !== undefined))];
    const inZone = (z: string) =>
      placed.filter((p) => p.spec.app === s.app && label(p.node, ZONE) === z).length;
    const min = Math.min(...zones.map((z) => inZone(z as string)));
    if (inZone(zone) + 1 - min > s.zoneSkew) return true;
  }
  if (s.affinity.length > 0) {
    const t = s.affinity[0] as { app: string; key: string };
    if (label(node, t.key) === undefined) return true;
    const anyMatch = placed.some((p) => p.spec.app === t.app && label(p.node, t.key) !== undefined);
    const here = placed.some((p) => p.spec.app === t.app && sameDomain(node, p.node, t.key));
    if (!here && (anyMatch || s.app !== t.app)) return true;
  }
  return false;
}

describe("InterPodAffinity, PodTopologySpread and NodePorts properties", () => {
  it("never places a pod where a required constraint is violated, and refuses only when every node violates one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("z1", "z2", undefined), { minLength: 1, maxLength: 6 }),
        fc.array(specArb, { minLength: 1, maxLength: 14 }),
        (zones, specs) => {
          const nodes: Node[] = zones.map((z, i) => ({
            metadata: { name: `n${i}`, labels: { [HOST]: `n${i}`, ...(z ? { [ZONE]: z } : {}) } },
            status: { allocatable: { cpu: "64", memory: "64Gi", pods: "1000" } },
          }));
          const snapshot = buildSnapshot(nodes.map((node) => ({ node })));
          const scheduler = createScheduler();
          const placed: Array<{ spec: Spec; node: Node }> = [];
          specs.forEach((s, i) => {
            const d = scheduler.decide(snapshot, toPod(s, i), i);
            if (d.status === "scheduled") {
              const node = nodes.find((n) => n.metadata.name === d.node) as Node;
              expect(violates(s, node, placed, nodes)).toBe(false);
              placed.push({ spec: s, node });
            } else {
              for (const n of nodes) expect(violates(s, n, placed, nodes)).toBe(true);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the incrementally kept affinity index decides like a snapshot built afresh, after assumes and forgets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("z1", "z2", undefined), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(specArb, fc.boolean()), { minLength: 1, maxLength: 12 }),
        specArb,
        (zones, steps, probeSpec) => {
          const nodes: Node[] = zones.map((z, i) => ({
            metadata: { name: `n${i}`, labels: { [HOST]: `n${i}`, ...(z ? { [ZONE]: z } : {}) } },
            status: { allocatable: { cpu: "64", memory: "64Gi", pods: "1000" } },
          }));
          const shared = buildSnapshot(nodes.map((node) => ({ node })));
          const scheduler = createScheduler();
          const kept = new Map<string, { pod: Pod; node: string }>();
          steps.forEach(([spec, forgetLater], i) => {
            const pod = toPod(spec, i);
            const d = scheduler.decide(shared, pod, i);
            if (d.node === undefined) return;
            kept.set(`default/p${i}`, { pod, node: d.node });
            // Forgetting an earlier pod exercises the index's removal path.
            if (forgetLater && i > 0 && kept.has(`default/p${i - 1}`)) {
              scheduler.assumed.forget(shared, `default/p${i - 1}`);
              kept.delete(`default/p${i - 1}`);
            }
          });
          const fresh = buildSnapshot(
            nodes.map((node) => ({
              node,
              pods: [...kept.values()].filter((k) => k.node === node.metadata.name).map((k) => k.pod),
            })),
          );
          const probe = toPod(probeSpec, 999);
          const a = schedule(shared, probe, DEFAULT_SCHEDULER_CONFIG, 100);
          const b = schedule(fresh, probe, DEFAULT_SCHEDULER_CONFIG, 100);
          expect([a.status, a.node, a.message]).toEqual([b.status, b.node, b.message]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
