import { describe, expect, it } from "vitest";
import { makeNode, makePod, runFilter } from "../../../test/support/scheduler.ts";
import type { NodeSelectorTerm } from "../k8s-types.ts";
import { nodeAffinity } from "./node-affinity.ts";

const REASON = "node(s) didn't match Pod's node affinity/selector";
const required = (...terms: NodeSelectorTerm[]) => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
});
const run = (labels: Record<string, string>, o: Parameters<typeof makePod>[1], name = "node1") =>
  runFilter(nodeAffinity, { node: { ...makeNode(name), metadata: { name, labels } } }, makePod("p", o));

// Cases from k8s node_affinity_test.go TestNodeAffinity.
describe("NodeAffinity filter: nodeSelector and required node affinity", () => {
  const cases: Array<[string, Record<string, string>, Parameters<typeof makePod>[1], string | null]> = [
    ["missing labels", {}, { nodeSelector: { foo: "bar" } }, REASON],
    ["same labels", { foo: "bar" }, { nodeSelector: { foo: "bar" } }, null],
    ["node labels are superset", { foo: "bar", baz: "blah" }, { nodeSelector: { foo: "bar" } }, null],
    ["node labels are subset", { foo: "bar" }, { nodeSelector: { foo: "bar", baz: "blah" } }, REASON],
    [
      "In matches",
      { foo: "bar" },
      {
        affinity: required({ matchExpressions: [{ key: "foo", operator: "In", values: ["bar", "value2"] }] }),
      },
      null,
    ],
    [
      "Gt matches (0206 > 0204)",
      { "kernel-version": "0206" },
      {
        affinity: required({
          matchExpressions: [{ key: "kernel-version", operator: "Gt", values: ["0204"] }],
        }),
      },
      null,
    ],
    [
      "Gt does not match (0204 > 0204)",
      { "kernel-version": "0204" },
      {
        affinity: required({
          matchExpressions: [{ key: "kernel-version", operator: "Gt", values: ["0204"] }],
        }),
      },
      REASON,
    ],
    [
      "Lt matches",
      { cores: "2" },
      { affinity: required({ matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }) },
      null,
    ],
    [
      "Lt on a non-integer label never matches",
      { cores: "two" },
      { affinity: required({ matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }) },
      REASON,
    ],
    [
      "Gt with two values is invalid and matches nothing",
      { cores: "8" },
      { affinity: required({ matchExpressions: [{ key: "cores", operator: "Gt", values: ["1", "2"] }] }) },
      REASON,
    ],
    [
      "NotIn matches a different value",
      { "mem-type": "DDR3" },
      {
        affinity: required({
          matchExpressions: [{ key: "mem-type", operator: "NotIn", values: ["DDR", "DDR2"] }],
        }),
      },
      null,
    ],
    [
      "NotIn matches an absent label",
      {},
      { affinity: required({ matchExpressions: [{ key: "mem-type", operator: "NotIn", values: ["DDR"] }] }) },
      null,
    ],
    [
      "Exists",
      { GPU: "NVIDIA-GRID-K1" },
      { affinity: required({ matchExpressions: [{ key: "GPU", operator: "Exists" }] }) },
      null,
    ],
    [
      "DoesNotExist",
      { GPU: "x" },
      { affinity: required({ matchExpressions: [{ key: "GPU", operator: "DoesNotExist" }] }) },
      REASON,
    ],
    [
      "In does not match",
      { foo: "bar" },
      {
        affinity: required({
          matchExpressions: [{ key: "foo", operator: "In", values: ["value1", "value2"] }],
        }),
      },
      REASON,
    ],
    [
      "an empty term matches nothing",
      { foo: "bar" },
      { affinity: required({ matchExpressions: [] }) },
      REASON,
    ],
    ["no terms at all matches nothing", { foo: "bar" }, { affinity: required() }, REASON],
    [
      "expressions in a term are ANDed (match)",
      { GPU: "NVIDIA-GRID-K1" },
      {
        affinity: required({
          matchExpressions: [
            { key: "GPU", operator: "Exists" },
            { key: "GPU", operator: "NotIn", values: ["AMD", "INTER"] },
          ],
        }),
      },
      null,
    ],
    [
      "expressions in a term are ANDed (no match)",
      { GPU: "NVIDIA-GRID-K1" },
      {
        affinity: required({
          matchExpressions: [
            { key: "GPU", operator: "Exists" },
            { key: "GPU", operator: "In", values: ["AMD", "INTER"] },
          ],
        }),
      },
      REASON,
    ],
    [
      "terms are ORed",
      { foo: "bar" },
      {
        affinity: required(
          { matchExpressions: [{ key: "foo", operator: "In", values: ["bar", "value2"] }] },
          { matchExpressions: [{ key: "diffkey", operator: "In", values: ["wrong", "value2"] }] },
        ),
      },
      null,
    ],
    [
      "nodeSelector and affinity both satisfied",
      { foo: "bar" },
      {
        nodeSelector: { foo: "bar" },
        affinity: required({ matchExpressions: [{ key: "foo", operator: "Exists" }] }),
      },
      null,
    ],
    [
      "affinity matches but nodeSelector does not",
      { foo: "barrrrrr" },
      {
        nodeSelector: { foo: "bar" },
        affinity: required({ matchExpressions: [{ key: "foo", operator: "Exists" }] }),
      },
      REASON,
    ],
    [
      "an invalid value makes the term match nothing",
      { foo: "bar" },
      {
        affinity: required({
          matchExpressions: [{ key: "foo", operator: "NotIn", values: ["invalid value: ___@#$%^"] }],
        }),
      },
      REASON,
    ],
    [
      "an invalid key makes the term match nothing",
      { foo: "bar" },
      { affinity: required({ matchExpressions: [{ key: "invalid key", operator: "DoesNotExist" }] }) },
      REASON,
    ],
    [
      "In needs values",
      { foo: "bar" },
      { affinity: required({ matchExpressions: [{ key: "foo", operator: "In", values: [] }] }) },
      REASON,
    ],
    [
      "unknown operator",
      { foo: "bar" },
      { affinity: required({ matchExpressions: [{ key: "foo", operator: "Equals", values: ["bar"] }] }) },
      REASON,
    ],
    [
      "matchFields metadata.name In matches",
      {},
      { affinity: required({ matchFields: [{ key: "metadata.name", operator: "In", values: ["node1"] }] }) },
      null,
    ],
    [
      "matchFields metadata.name NotIn",
      {},
      {
        affinity: required({ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["node1"] }] }),
      },
      REASON,
    ],
    [
      "two terms: matchFields does not match, matchExpressions does",
      { foo: "bar" },
      {
        affinity: required(
          { matchFields: [{ key: "metadata.name", operator: "In", values: ["node2"] }] },
          { matchExpressions: [{ key: "foo", operator: "In", values: ["bar"] }] },
        ),
      },
      null,
    ],
    [
      "one term: matchFields does not match although matchExpressions does",
      { foo: "bar" },
      {
        affinity: required({
          matchFields: [{ key: "metadata.name", operator: "In", values: ["node2"] }],
          matchExpressions: [{ key: "foo", operator: "In", values: ["bar"] }],
        }),
      },
      REASON,
    ],
  ];
  it.each(cases)("%s", (_name, labels, podOptions, want) => {
    expect(run(labels, podOptions)).toBe(want);
  });
});
