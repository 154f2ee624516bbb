// Cases of kube-scheduler's interpodaffinity filtering_test.go (TestRequiredAffinitySingleNode,
// TestRequiredAffinityMultipleNodes), run through the engine: same pods, nodes and reason strings.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { type Decision, schedule } from "../engine.ts";
import type { LabelSelectorRequirement, Node, Pod, PodAffinityTerm } from "../k8s-types.ts";
import { createScheduler } from "../scheduler.ts";
import { buildSnapshot } from "../snapshot.ts";
import {
  ERR_REASON_AFFINITY_RULES,
  ERR_REASON_ANTI_AFFINITY_RULES,
  ERR_REASON_EXISTING_ANTI_AFFINITY,
} from "./inter-pod-affinity.ts";

const podLabel = { service: "securityscan" };
const podLabel2 = { security: "S1" };
let seq = 0;

const expr = (key: string, operator: string, ...values: string[]): LabelSelectorRequirement =>
  values.length === 0 ? { key, operator } : { key, operator, values };
const term = (topologyKey: string, ...e: LabelSelectorRequirement[]): PodAffinityTerm => ({
  labelSelector: { matchExpressions: e },
  topologyKey,
});
function pod(
  labels: Record<string, string>,
  affinity?: readonly PodAffinityTerm[],
  anti?: readonly PodAffinityTerm[],
  namespace = "default",
): Pod {
  return {
    metadata: { name: `p${seq++}`, namespace, labels },
    spec: {
      containers: [{ name: "c" }],
      affinity: {
        ...(affinity ? { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: affinity } } : {}),
        ...(anti ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: anti } } : {}),
      },
    },
  };
}
const node = (name: string, labels: Record<string, string>): Node => ({
  metadata: { name, labels },
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
});
const machine1 = node("machine1", { region: "r1", zone: "z11" });

function decide(incoming: Pod, nodes: readonly Node[], placed: ReadonlyArray<[string, Pod]>): Decision {
  const snapshot = buildSnapshot(
    nodes.map((n) => ({ node: n, pods: placed.filter(([at]) => at === n.metadata.name).map(([, p]) => p) })),
  );
  return schedule(snapshot, incoming, DEFAULT_SCHEDULER_CONFIG, 0);
}
const reasonOn = (d: Decision, name: string): string | null =>
  d.rejections.find((r) => r.node === name)?.reason ?? null;

describe("InterPodAffinity Filter, one node (TestRequiredAffinitySingleNode)", () => {
  const existing = (): [string, Pod] => ["machine1", pod(podLabel)];
  const cases: ReadonlyArray<[string, Pod, ReadonlyArray<[string, Pod]>, string | null]> = [
    ["no required pod affinity, no existing pods", pod({}), [], null],
    [
      "In operator matches the existing pod",
      pod(podLabel2, [term("region", expr("service", "In", "securityscan", "value2"))]),
      [existing()],
      null,
    ],
    [
      "NotIn operator matches the existing pod",
      pod(podLabel2, [term("region", expr("service", "NotIn", "securityscan3", "value3"))]),
      [existing()],
      null,
    ],
    [
      "does not match because of a different namespace",
      pod(podLabel2, [
        { ...term("", expr("service", "In", "securityscan", "value2")), namespaces: ["DiffNameSpace"] },
      ]),
      [["machine1", pod(podLabel, undefined, undefined, "ns")]],
      ERR_REASON_AFFINITY_RULES,
    ],
    [
      "unmatching labelSelector",
      pod(podLabel, [term("", expr("service", "In", "antivirusscan", "value2"))]),
      [existing()],
      ERR_REASON_AFFINITY_RULES,
    ],
    [
      "different operators in multiple required terms",
      pod(podLabel2, [
        term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
        term("region", expr("service", "In", "securityscan"), expr("service", "NotIn", "WrongValue")),
      ]),
      [existing()],
      null,
    ],
    [
      "requirements are ANDed: one does not match",
      pod(podLabel2, [
        term("region", expr("service", "Exists"), expr("wrongkey", "DoesNotExist")),
        term("region", expr("service", "In", "securityscan2"), expr("service", "NotIn", "WrongValue")),
      ]),
      [existing()],
      ERR_REASON_AFFINITY_RULES,
    ],
    [
      "satisfies PodAffinity and PodAntiAffinity",
      pod(
        podLabel2,
        [term("region", expr("service", "In", "securityscan", "value2"))],
        [term("node", expr("service", "In", "antivirusscan", "value2"))],
      ),
      [existing()],
      null,
    ],
    [
      "satisfies PodAffinity, PodAntiAffinity and the existing pod's anti-affinity",
      pod(
        podLabel2,
        [term("region", expr("service", "In", "securityscan", "value2"))],
        [term("node", expr("service", "In", "antivirusscan", "value2"))],
      ),
      [
        [
          "machine1",
          pod(podLabel, undefined, [term("node", expr("service", "In", "antivirusscan", "value2"))]),
        ],
      ],
      null,
    ],
    [
      "satisfies PodAffinity but not PodAntiAffinity",
      pod(
        podLabel2,
        [term("region", expr("service", "In", "securityscan", "value2"))],
        [term("zone", expr("service", "In", "securityscan", "value2"))],
      ),
      [existing()],
      ERR_REASON_ANTI_AFFINITY_RULES,
    ],
    [
      "satisfies its own terms but not the existing pod's anti-affinity (symmetry)",
      pod(
        podLabel,
        [term("region", expr("service", "In", "securityscan", "value2"))],
        [term("node", expr("service", "In", "antivirusscan", "value2"))],
      ),
      [
        [
          "machine1",
          pod(podLabel, undefined, [term("zone", expr("service", "In", "securityscan", "value2"))]),
        ],
      ],
      ERR_REASON_EXISTING_ANTI_AFFINITY,
    ],
    [
      "pod does not match its own NotIn affinity and no pod matches",
      pod(podLabel, [term("region", expr("service", "NotIn", "securityscan", "value2"))]),
      [["machine2", pod(podLabel)]],
      ERR_REASON_AFFINITY_RULES,
    ],
    [
      "existing pod's anti-affinity is respected when the pod has none",
      pod(podLabel),
      [
        [
          "machine1",
          pod(podLabel, undefined, [term("zone", expr("service", "In", "securityscan", "value2"))]),
        ],
      ],
      ERR_REASON_EXISTING_ANTI_AFFINITY,
    ],
    [
      "existing pod's anti-affinity that does not select the pod",
      pod(podLabel),
      [
        [
          "machine1",
          pod(podLabel, undefined, [term("zone", expr("service", "NotIn", "securityscan", "value2"))]),
        ],
      ],
      null,
    ],
  ];

  it.each(cases)("%s", (_name, incoming, placed, want) => {
    const nodes = [machine1, node("machine2", {})];
    const d = decide(incoming, nodes, placed);
    expect(reasonOn(d, "machine1")).toBe(want);
    if (want !== null)
      expect(d.rejections.find((r) => r.node === "machine1")?.filter).toBe("InterPodAffinity");
  });
});

describe("InterPodAffinity Filter, several nodes (TestRequiredAffinityMultipleNodes)", () => {
  const labelRgChina = { region: "China" };
  const labelRgChinaAzAz1 = { region: "China", az: "az1" };
  const labelRgIndia = { region: "India" };
  const nodes = [
    node("machine1", labelRgChina),
    node("machine2", labelRgChinaAzAz1),
    node("machine3", labelRgIndia),
  ];

  it("a pod with affinity to a pod in region China may go to any node of China, not India", () => {
    const d = decide(pod({}, [term("region", expr("foo", "In", "bar"))]), nodes, [
      ["machine1", pod({ foo: "bar" })],
    ]);
    expect(d.status).toBe("scheduled");
    expect(reasonOn(d, "machine1")).toBeNull();
    expect(reasonOn(d, "machine2")).toBeNull();
    expect(reasonOn(d, "machine3")).toBe(ERR_REASON_AFFINITY_RULES);
  });

  it("anti-affinity to a pod in China rejects every node of China", () => {
    const d = decide(pod({}, undefined, [term("region", expr("foo", "In", "abc"))]), nodes, [
      ["machine1", pod({ foo: "abc" })],
    ]);
    expect(d.node).toBe("machine3");
    expect(reasonOn(d, "machine1")).toBe(ERR_REASON_ANTI_AFFINITY_RULES);
    expect(reasonOn(d, "machine2")).toBe(ERR_REASON_ANTI_AFFINITY_RULES);
  });

  it("a node without the topology key fails required affinity, even for the first pod of a series", () => {
    const self = pod({ foo: "bar" }, [term("az", expr("foo", "In", "bar"))]);
    const d = decide(self, nodes, []);
    expect(d.node).toBe("machine2"); // the only node labelled az: the first pod of the series may go there
    expect(reasonOn(d, "machine1")).toBe(ERR_REASON_AFFINITY_RULES);
    expect(reasonOn(d, "machine3")).toBe(ERR_REASON_AFFINITY_RULES);
  });

  it("kube-scheduler's FitError when every node is rejected, affinity checked before anti-affinity", () => {
    const d = decide(
      pod(
        { foo: "bar" },
        [term("region", expr("foo", "In", "nope"))],
        [term("region", expr("foo", "In", "bar"))],
      ),
      nodes,
      [["machine1", pod({ foo: "bar" })]],
    );
    expect(d.message).toBe(`0/3 nodes are available: 3 ${ERR_REASON_AFFINITY_RULES}.`);
  });
});

describe("InterPodAffinity: namespaces, matchLabelKeys, mismatchLabelKeys", () => {
  const nodes = [node("a", { "kubernetes.io/hostname": "a" }), node("b", { "kubernetes.io/hostname": "b" })];
  const hostAnti = (extra: Partial<PodAffinityTerm>): PodAffinityTerm => ({
    ...term("kubernetes.io/hostname", expr("app", "In", "web")),
    ...extra,
  });

  it("a term selects its own namespace by default, listed namespaces, or all with an empty namespaceSelector", () => {
    const other = pod({ app: "web" }, undefined, undefined, "other");
    expect(decide(pod({}, undefined, [hostAnti({})]), nodes, [["a", other]]).rejections).toEqual([]);
    expect(
      reasonOn(decide(pod({}, undefined, [hostAnti({ namespaces: ["other"] })]), nodes, [["a", other]]), "a"),
    ).toBe(ERR_REASON_ANTI_AFFINITY_RULES);
    expect(
      reasonOn(decide(pod({}, undefined, [hostAnti({ namespaceSelector: {} })]), nodes, [["a", other]]), "a"),
    ).toBe(ERR_REASON_ANTI_AFFINITY_RULES);
  });

  it("matchLabelKeys narrows the selector to the pod's own value (one replica set per host, not all versions)", () => {
    const term1 = hostAnti({ matchLabelKeys: ["pod-template-hash"] });
    const old = pod({ app: "web", "pod-template-hash": "v1" });
    const incoming = pod({ app: "web", "pod-template-hash": "v2" }, undefined, [term1]);
    expect(decide(incoming, nodes, [["a", old]]).rejections).toEqual([]);
    const sameVersion = pod({ app: "web", "pod-template-hash": "v2" });
    expect(reasonOn(decide(incoming, nodes, [["a", sameVersion]]), "a")).toBe(ERR_REASON_ANTI_AFFINITY_RULES);
  });

  it("mismatchLabelKeys excludes pods with the pod's own value", () => {
    const t = hostAnti({ mismatchLabelKeys: ["tenant"] });
    const incoming = pod({ app: "web", tenant: "x" }, undefined, [t]);
    expect(decide(incoming, nodes, [["a", pod({ app: "web", tenant: "x" })]]).rejections).toEqual([]);
    expect(reasonOn(decide(incoming, nodes, [["a", pod({ app: "web", tenant: "y" })]]), "a")).toBe(
      ERR_REASON_ANTI_AFFINITY_RULES,
    );
  });

  it("an invalid selector operator is an error, as the API server's validation would make it", () => {
    expect(() => decide(pod({}, [term("zone", expr("app", "Near", "x"))]), nodes, [])).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_POD_SPEC" }),
    );
  });
});

describe("InterPodAffinity with assumed pods: 3 replicas with required hostname anti-affinity on 3 nodes", () => {
  it("land one per node; the 4th is unschedulable with kube-scheduler's message; a removal frees a node", () => {
    const nodes = ["n1", "n2", "n3"].map((n) => node(n, { "kubernetes.io/hostname": n }));
    const snapshot = buildSnapshot(nodes.map((n) => ({ node: n })));
    const scheduler = createScheduler();
    const replica = (i: number): Pod => ({
      ...pod({ app: "db" }, undefined, [term("kubernetes.io/hostname", expr("app", "In", "db"))]),
      metadata: { name: `db-${i}`, namespace: "default", labels: { app: "db" } },
    });
    const placed = [0, 1, 2].map((i) => scheduler.decide(snapshot, replica(i), i).node);
    expect(new Set(placed)).toEqual(new Set(["n1", "n2", "n3"]));
    const fourth = scheduler.decide(snapshot, replica(3), 3);
    expect(fourth.status).toBe("unschedulable");
    expect(fourth.message).toBe(`0/3 nodes are available: 3 ${ERR_REASON_ANTI_AFFINITY_RULES}.`);
    scheduler.assumed.forget(snapshot, "default/db-1");
    expect(scheduler.decide(snapshot, replica(3), 4).node).toBe(placed[1]);
  });
});
