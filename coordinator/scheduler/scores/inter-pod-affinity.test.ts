// Cases of kube-scheduler's interpodaffinity scoring_test.go (TestPreferredAffinity,
// TestPreferredAffinityWithHardPodAffinitySymmetricWeight): normalized scores per node.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig, type SchedulerConfig } from "../config.ts";
import type { Node, Pod, PodAffinityTerm } from "../k8s-types.ts";
import { compilePod } from "../pod.ts";
import { buildSnapshot } from "../snapshot.ts";
import { interPodAffinityScore } from "./inter-pod-affinity.ts";

const node = (name: string, labels: Record<string, string>): Node => ({
  metadata: { name, labels },
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
});
const labelRgChina = { region: "China" };
const labelRgIndia = { region: "India" };
const labelAzAz1 = { az: "az1" };
const labelRgChinaAzAz1 = { region: "China", az: "az1" };
const podLabelSecurityS1 = { security: "S1" };
const podLabelSecurityS2 = { security: "S2" };

const securityTerm = (value: string, topologyKey: string): PodAffinityTerm => ({
  labelSelector: { matchExpressions: [{ key: "security", operator: "In", values: [value] }] },
  topologyKey,
});
let seq = 0;
const pod = (labels: Record<string, string>, affinity: NonNullable<Pod["spec"]>["affinity"] = {}): Pod => ({
  metadata: { name: `p${seq++}`, namespace: "default", labels },
  spec: { containers: [{ name: "c" }], affinity },
});
const preferred = (kind: "podAffinity" | "podAntiAffinity", weight: number, t: PodAffinityTerm) => ({
  [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight, podAffinityTerm: t }] },
});

/** Normalized scores of every node, or null when the plugin skips. */
function scores(
  incoming: Pod,
  nodes: readonly Node[],
  placed: ReadonlyArray<[string, Pod]>,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
): Record<string, number> | null {
  const snapshot = buildSnapshot(
    nodes.map((n) => ({ node: n, pods: placed.filter(([at]) => at === n.metadata.name).map(([, p]) => p) })),
  );
  const feasible = Int32Array.from(nodes.map((_, i) => i));
  const out = new Float64Array(nodes.length);
  const ctx = { snapshot, pod: compilePod(incoming, config), config, now: 0 };
  if (!interPodAffinityScore.scoreAll(feasible, nodes.length, out, ctx)) return null;
  interPodAffinityScore.normalize?.(out, nodes.length);
  return Object.fromEntries(nodes.map((n, i) => [n.metadata.name, out[i] as number]));
}

describe("InterPodAffinity Score (TestPreferredAffinity)", () => {
  const m1 = node("machine1", labelRgChina);
  const m2 = node("machine2", labelRgIndia);
  const m3 = node("machine3", labelAzAz1);
  const affinityS1 = preferred("podAffinity", 5, securityTerm("S1", "region"));

  it("skips when no pod has affinity", () => {
    expect(scores(pod(podLabelSecurityS1), [m1, m2, m3], [])).toBeNull();
  });

  it("the node whose region holds a matching pod scores 100, the others 0", () => {
    expect(
      scores(
        pod(podLabelSecurityS1, affinityS1),
        [m1, m2, m3],
        [
          ["machine1", pod(podLabelSecurityS1)],
          ["machine2", pod(podLabelSecurityS2)],
        ],
      ),
    ).toEqual({ machine1: 100, machine2: 0, machine3: 0 });
  });

  it("every node of the matching pod's topology domain gets the same score", () => {
    const nodes = [
      node("machine1", labelRgChina),
      node("machine2", labelRgChinaAzAz1),
      node("machine3", labelRgIndia),
    ];
    expect(scores(pod({}, affinityS1), nodes, [["machine1", pod(podLabelSecurityS1)]])).toEqual({
      machine1: 100,
      machine2: 100,
      machine3: 0,
    });
  });

  it("preferred anti-affinity: the region holding the matching pod scores 0", () => {
    const anti = preferred("podAntiAffinity", 5, securityTerm("S1", "region"));
    expect(
      scores(
        pod({}, anti),
        [m1, m2],
        [
          ["machine1", pod(podLabelSecurityS1)],
          ["machine2", pod(podLabelSecurityS2)],
        ],
      ),
    ).toEqual({ machine1: 0, machine2: 100 });
  });

  it("affinity and anti-affinity weights add up per domain", () => {
    const both = {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 8, podAffinityTerm: securityTerm("S1", "region") },
        ],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 5, podAffinityTerm: securityTerm("S2", "region") },
        ],
      },
    };
    const nodes = [node("a", labelRgChina), node("b", labelRgIndia), node("c", { region: "Japan" })];
    // a: +8, b: −5 (and −5 again), c: 0 → normalized over [−10, 8].
    expect(
      scores(pod({}, both), nodes, [
        ["a", pod(podLabelSecurityS1)],
        ["b", pod(podLabelSecurityS2)],
        ["b", pod(podLabelSecurityS2)],
      ]),
    ).toEqual({ a: 100, b: 0, c: Math.trunc(100 * (10 / 18)) });
  });

  it("existing pods' preferred anti-affinity that selects the incoming pod lowers its node", () => {
    const existing = pod(podLabelSecurityS2, preferred("podAntiAffinity", 5, securityTerm("S1", "region")));
    expect(scores(pod(podLabelSecurityS1), [m1, m2], [["machine1", existing]])).toEqual({
      machine1: 0,
      machine2: 100,
    });
  });
});

describe("hardPodAffinityWeight (TestPreferredAffinityWithHardPodAffinitySymmetricWeight)", () => {
  const nodes = [
    node("machine1", labelRgChina),
    node("machine2", labelRgIndia),
    node("machine3", labelAzAz1),
  ];
  const existing = (): [string, Pod] => [
    "machine1",
    pod(podLabelSecurityS2, {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: { service: "S1" } }, topologyKey: "region" },
        ],
      },
    }),
  ];

  it("an existing pod's required affinity for the incoming pod pulls it to that region", () => {
    expect(scores(pod({ service: "S1" }), nodes, [existing()])).toEqual({
      machine1: 100,
      machine2: 0,
      machine3: 0,
    });
  });

  it("with hardPodAffinityWeight 0 the plugin adds nothing", () => {
    const config = resolveSchedulerConfig({ interPodAffinity: { hardPodAffinityWeight: 0 } });
    expect(scores(pod({ service: "S1" }), nodes, [existing()], config)).toBeNull();
  });
});
