// Property: whatever the fleet and the volume's node affinity, a pod whose claim is bound to that volume
// is never placed on a node the affinity excludes, and is placed whenever some node satisfies it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeNode, makePV, makePVC, podWithClaims, storageOf } from "../../../test/support/volumes.ts";
import { DEFAULT_SCHEDULER_CONFIG } from "../config.ts";
import { schedule } from "../engine.ts";
import type { NodeSelectorTerm } from "../k8s-types.ts";
import { buildSnapshot } from "../snapshot.ts";

const ZONES = ["z1", "z2", "z3"];
const HOSTS = ["n0", "n1", "n2", "n3", "n4", "n5"];

const requirement = fc.oneof(
  fc.record({
    key: fc.constant("topology.kubernetes.io/zone"),
    operator: fc.constantFrom("In", "NotIn"),
    values: fc.subarray(ZONES, { minLength: 1 }),
  }),
  fc.record({
    key: fc.constant("kubernetes.io/hostname"),
    operator: fc.constantFrom("In", "NotIn"),
    values: fc.subarray(HOSTS, { minLength: 1 }),
  }),
  fc.record({ key: fc.constant("disk"), operator: fc.constantFrom("Exists", "DoesNotExist") }),
);
const terms: fc.Arbitrary<NodeSelectorTerm[]> = fc.array(
  fc.record({ matchExpressions: fc.array(requirement, { minLength: 1, maxLength: 3 }) }),
  { minLength: 1, maxLength: 3 },
);
const fleet = fc.uniqueArray(
  fc.record({ host: fc.constantFrom(...HOSTS), zone: fc.constantFrom(...ZONES), disk: fc.boolean() }),
  { minLength: 1, maxLength: 6, selector: (n) => n.host },
);

/** The affinity evaluated independently of the engine: terms ORed, requirements ANDed. */
function allows(t: NodeSelectorTerm[], labels: Record<string, string>): boolean {
  return t.some((term) =>
    (term.matchExpressions ?? []).every((r) => {
      const v = labels[r.key];
      if (r.operator === "In") return v !== undefined && (r.values ?? []).includes(v);
      if (r.operator === "NotIn") return v === undefined || !(r.values ?? []).includes(v);
      if (r.operator === "Exists") return v !== undefined;
      return v === undefined;
    }),
  );
}

describe("VolumeBinding property", () => {
  it("a chosen node never violates a bound volume's node affinity", () => {
    fc.assert(
      fc.property(fleet, terms, (nodes, affinity) => {
        const labelled = nodes.map((n) => ({
          name: n.host,
          labels: {
            "kubernetes.io/hostname": n.host,
            "topology.kubernetes.io/zone": n.zone,
            ...(n.disk ? { disk: "ssd" } : {}),
          },
        }));
        const snapshot = buildSnapshot(labelled.map((n) => ({ node: makeNode(n.name, n.labels) })));
        snapshot.storage = storageOf(
          [makePVC("data", "local-path", { boundTo: "pv" })],
          [makePV("pv", "local-path", { terms: affinity })],
        );
        const d = schedule(snapshot, podWithClaims("p", ["data"]), DEFAULT_SCHEDULER_CONFIG, 0);
        const allowed = labelled.filter((n) => allows(affinity, n.labels)).map((n) => n.name);
        if (d.status === "scheduled") expect(allowed).toContain(d.node);
        else expect(allowed).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
