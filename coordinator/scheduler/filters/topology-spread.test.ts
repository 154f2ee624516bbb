// Cases of kube-scheduler's podtopologyspread filtering_test.go (TestSingleConstraint,
// TestMultipleConstraints), checked node by node as those tests call Filter, plus minDomains and the
// node inclusion policies.
import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import type { Node, Pod, TopologySpreadConstraint } from "../k8s-types.ts";
import { compilePod } from "../pod.ts";
import { buildSnapshot } from "../snapshot.ts";
import {
  ERR_REASON_SPREAD_CONSTRAINTS,
  ERR_REASON_SPREAD_LABEL,
  podTopologySpread,
} from "./topology-spread.ts";

const node = (name: string, labels: Record<string, string>, extra: Partial<Node["spec"]> = {}): Node => ({
  metadata: { name, labels },
  spec: extra,
  status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
});
const abxy = (): Node[] => [
  node("node-a", { zone: "zone1", node: "node-a" }),
  node("node-b", { zone: "zone1", node: "node-b" }),
  node("node-x", { zone: "zone2", node: "node-x" }),
  node("node-y", { zone: "zone2", node: "node-y" }),
];
const hard = (
  maxSkew: number,
  topologyKey: string,
  exists: string,
  extra: Partial<TopologySpreadConstraint> = {},
) =>
  ({
    maxSkew,
    topologyKey,
    whenUnsatisfiable: "DoNotSchedule",
    labelSelector: { matchExpressions: [{ key: exists, operator: "Exists" }] },
    ...extra,
  }) as TopologySpreadConstraint;
let seq = 0;
const incoming = (
  labels: Record<string, string>,
  constraints: TopologySpreadConstraint[],
  spec = {},
): Pod => ({
  metadata: { name: `p${seq++}`, namespace: "default", labels },
  spec: { containers: [{ name: "c" }], topologySpreadConstraints: constraints, ...spec },
});
/** "node-a" or "node-a/ns1", label foo by default. */
const existing = (at: string, labels: Record<string, string> = { foo: "" }): [string, Pod] => {
  const [name, ns] = at.split("/") as [string, string | undefined];
  return [
    name,
    { metadata: { name: `e${seq++}`, namespace: ns ?? "default", labels }, spec: { containers: [] } },
  ];
};

function fits(
  pod: Pod,
  nodes: readonly Node[],
  placed: ReadonlyArray<[string, Pod]>,
): Record<string, string | null> {
  const snapshot = buildSnapshot(
    nodes.map((n) => ({ node: n, pods: placed.filter(([at]) => at === n.metadata.name).map(([, p]) => p) })),
  );
  const ctx = {
    snapshot,
    pod: compilePod(pod, DEFAULT_SCHEDULER_CONFIG),
    config: DEFAULT_SCHEDULER_CONFIG,
    now: 0,
  };
  return Object.fromEntries(
    snapshot.nodes.map((n) => [n.name, podTopologySpread.check(n, ctx) as string | null]),
  );
}
const ok = null;
const SKEW = ERR_REASON_SPREAD_CONSTRAINTS;
const LABEL = ERR_REASON_SPREAD_LABEL;
const pods2103 = () => [
  existing("node-a"),
  existing("node-a"),
  existing("node-b"),
  existing("node-y"),
  existing("node-y"),
  existing("node-y"),
];

describe("PodTopologySpread Filter (TestSingleConstraint)", () => {
  it("no existing pods", () => {
    const want = { "node-a": ok, "node-b": ok, "node-x": ok, "node-y": ok };
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "foo")]), abxy(), [])).toEqual(want);
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "bar")]), abxy(), [])).toEqual(want);
  });
  it("existing pods with mis-matched namespace don't count", () => {
    const placed = [existing("node-a/ns1"), existing("node-a/ns2"), existing("node-x"), existing("node-y")];
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "foo")]), abxy(), placed)).toEqual({
      "node-a": ok,
      "node-b": ok,
      "node-x": SKEW,
      "node-y": SKEW,
    });
  });
  it("pods spread across zones as 3/3, all nodes fit", () => {
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "foo")]), abxy(), pods2103())).toEqual({
      "node-a": ok,
      "node-b": ok,
      "node-x": ok,
      "node-y": ok,
    });
  });
  it("pods spread across zones as 1/2 due to absence of label 'zone' on node-b", () => {
    const nodes = abxy();
    nodes[1] = node("node-b", { zon: "zone1", node: "node-b" });
    const placed = [existing("node-a"), existing("node-b"), existing("node-x"), existing("node-y")];
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "foo")]), nodes, placed)).toEqual({
      "node-a": ok,
      "node-b": LABEL,
      "node-x": SKEW,
      "node-y": SKEW,
    });
  });
  it("pods spread across nodes as 2/1/0/3, only node-x fits", () => {
    expect(fits(incoming({ foo: "" }, [hard(1, "node", "foo")]), abxy(), pods2103())).toEqual({
      "node-a": SKEW,
      "node-b": SKEW,
      "node-x": ok,
      "node-y": SKEW,
    });
  });
  it("pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit", () => {
    expect(fits(incoming({ foo: "" }, [hard(2, "node", "foo")]), abxy(), pods2103())).toEqual({
      "node-a": SKEW,
      "node-b": ok,
      "node-x": ok,
      "node-y": SKEW,
    });
  });
  it("pods spread across nodes as 2/1/0/3, but pod doesn't match itself", () => {
    expect(fits(incoming({ bar: "" }, [hard(1, "node", "foo")]), abxy(), pods2103())).toEqual({
      "node-a": SKEW,
      "node-b": ok,
      "node-x": ok,
      "node-y": SKEW,
    });
  });
  it("incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "node", operator: "In", values: ["node-a", "node-y"] }] },
          ],
        },
      },
    };
    expect(fits(incoming({ foo: "" }, [hard(1, "node", "foo")], { affinity }), abxy(), pods2103())).toEqual({
      "node-a": ok,
      "node-b": ok, // rejected by NodeAffinity in a real cycle
      "node-x": ok,
      "node-y": SKEW,
    });
    // With nodeAffinityPolicy Ignore every node counts again: 2/1/0/3.
    const ignore = hard(1, "node", "foo", { nodeAffinityPolicy: "Ignore" });
    expect(fits(incoming({ foo: "" }, [ignore], { affinity }), abxy(), pods2103())["node-a"]).toBe(SKEW);
  });
});

describe("PodTopologySpread Filter (TestMultipleConstraints)", () => {
  const both = [hard(1, "zone", "foo"), hard(1, "node", "foo")];
  it("two constraints on zone and node, spreads = [3/3, 2/1/0/3]", () => {
    expect(fits(incoming({ foo: "" }, both), abxy(), pods2103())).toEqual({
      "node-a": SKEW,
      "node-b": SKEW,
      "node-x": ok,
      "node-y": SKEW,
    });
  });
  it("two constraints on zone and node, spreads = [3/4, 2/1/0/4]", () => {
    expect(fits(incoming({ foo: "" }, both), abxy(), [...pods2103(), existing("node-y")])).toEqual({
      "node-a": SKEW,
      "node-b": SKEW,
      "node-x": SKEW,
      "node-y": SKEW,
    });
  });
  it("constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]", () => {
    const pod = incoming({ foo: "", bar: "" }, [hard(1, "zone", "foo"), hard(1, "node", "bar")]);
    expect(fits(pod, abxy(), [existing("node-a"), existing("node-y", { bar: "" })])).toEqual({
      "node-a": SKEW,
      "node-b": SKEW,
      "node-x": ok,
      "node-y": SKEW,
    });
  });
});

describe("minDomains, nodeTaintsPolicy, matchLabelKeys", () => {
  it("fewer domains than minDomains makes the global minimum 0", () => {
    // Two zones with 1 and 2 matching pods: the minimum is 1, so zone2 (2+1−1 = 2) is within maxSkew 2.
    const placed = [existing("node-a"), existing("node-x"), existing("node-y")];
    const plain = incoming({ foo: "" }, [hard(2, "zone", "foo")]);
    expect(fits(plain, abxy(), placed)["node-x"]).toBe(ok);
    // minDomains 3 > 2 domains: the minimum is 0, so zone2 (2+1−0 = 3) exceeds maxSkew 2.
    const min3 = incoming({ foo: "" }, [hard(2, "zone", "foo", { minDomains: 3 })]);
    expect(fits(min3, abxy(), placed)).toEqual({
      "node-a": ok,
      "node-b": ok,
      "node-x": SKEW,
      "node-y": SKEW,
    });
  });

  it("nodeTaintsPolicy Honor leaves out nodes with a taint the pod does not tolerate", () => {
    const nodes = [
      node("a", { zone: "z1" }),
      node("b", { zone: "z2" }, { taints: [{ key: "edge", effect: "NoSchedule" }] }),
    ];
    const placed = [existing("a")];
    // Ignore (default): z2 counts with 0 pods, so z1 (1+1−0) exceeds maxSkew 1.
    expect(fits(incoming({ foo: "" }, [hard(1, "zone", "foo")]), nodes, placed).a).toBe(SKEW);
    // Honor: z2 is not a domain; z1 is the only one, minimum 1, so a fits.
    const honor = incoming({ foo: "" }, [hard(1, "zone", "foo", { nodeTaintsPolicy: "Honor" })]);
    expect(fits(honor, nodes, placed).a).toBe(ok);
  });

  it("matchLabelKeys counts only pods with the pod's own value", () => {
    const c = hard(1, "node", "foo", { matchLabelKeys: ["pod-template-hash"] });
    const pod = incoming({ foo: "", "pod-template-hash": "v2" }, [c]);
    const old = { foo: "", "pod-template-hash": "v1" };
    const placed = [existing("node-a", old), existing("node-a", old)];
    expect(Object.values(fits(pod, abxy(), placed))).toEqual([ok, ok, ok, ok]);
  });
});

describe("terminating pods", () => {
  it("do not count for spreading (countPodsMatchSelector), but still for anti-affinity", () => {
    const dying = (at: string): [string, Pod] => {
      const [name, pod] = existing(at);
      return [name, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: "2026-12-07T00:00:00Z" } }];
    };
    // node-a holds 2 matching pods, one of them terminating: spread over nodes sees 1/0/0/0.
    const placed = [existing("node-a"), dying("node-a")];
    expect(fits(incoming({ foo: "" }, [hard(1, "node", "foo")]), abxy(), placed)["node-a"]).toBe(SKEW);
    expect(fits(incoming({ foo: "" }, [hard(2, "node", "foo")]), abxy(), placed)["node-a"]).toBe(ok);
    // Only the terminating pod left: node-a fits maxSkew 1 again, yet anti-affinity still sees the pod.
    const onlyDying = [dying("node-a")];
    expect(fits(incoming({ foo: "" }, [hard(1, "node", "foo")]), abxy(), onlyDying)["node-a"]).toBe(ok);
    const anti = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchExpressions: [{ key: "foo", operator: "Exists" }] },
              topologyKey: "node",
            },
          ],
        },
      },
    };
    const snapshot = buildSnapshot(
      abxy().map((n) => ({ node: n, pods: n.metadata.name === "node-a" ? [onlyDying[0]?.[1] as Pod] : [] })),
    );
    const d = schedule(snapshot, incoming({ foo: "" }, [], anti), DEFAULT_SCHEDULER_CONFIG, 0);
    expect(d.rejections.map((r) => r.node)).toEqual(["node-a"]);
  });
});

describe("PodTopologySpread in the engine", () => {
  it("reports kube-scheduler's FitError and filters before InterPodAffinity", () => {
    const snapshot = buildSnapshot(abxy().map((n) => ({ node: n })));
    const d = schedule(
      snapshot,
      incoming({ foo: "" }, [hard(1, "rack", "foo")]),
      DEFAULT_SCHEDULER_CONFIG,
      0,
    );
    expect(d.message).toBe(`0/4 nodes are available: 4 ${LABEL}.`);
    expect(d.rejections[0]?.filter).toBe("PodTopologySpread");
  });

  it("places a zone-spread series alternately across zones", () => {
    const snapshot = buildSnapshot(abxy().map((n) => ({ node: n })));
    const zones: string[] = [];
    const placed: Array<[string, Pod]> = [];
    for (let i = 0; i < 6; i++) {
      const snap = buildSnapshot(
        abxy().map((n) => ({
          node: n,
          pods: placed.filter(([at]) => at === n.metadata.name).map(([, p]) => p),
        })),
      );
      const d = schedule(snap, incoming({ foo: "" }, [hard(1, "zone", "foo")]), DEFAULT_SCHEDULER_CONFIG, 0);
      const at = d.node as string;
      zones.push(snapshot.byName.get(at)?.labels.get("zone") as string);
      placed.push(existing(at));
    }
    const count = (z: string) => zones.filter((x) => x === z).length;
    expect(count("zone1")).toBe(3);
    expect(count("zone2")).toBe(3);
  });
});
