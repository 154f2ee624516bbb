// Node selector terms as component-helpers/scheduling/corev1/nodeaffinity evaluates them:
// expressions in a term are ANDed, terms are ORed, an empty term matches nothing, and a term with
// an invalid requirement (bad key, bad value, wrong value count) never matches — the requirement
// validation is labels.NewRequirement's.
import type { NodeSelectorRequirement, NodeSelectorTerm } from "./k8s-types.ts";

type LabelOp = "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: ReadonlySet<string>;
  /** Gt/Lt operand. */
  readonly bound: bigint;
}

interface FieldRequirement {
  readonly key: string;
  readonly in: boolean;
  readonly value: string;
}

export interface CompiledTerm {
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
  /** False when any requirement failed validation: the term then matches no node. */
  readonly valid: boolean;
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const GO_INT = /^[+-]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** validation.IsQualifiedName: [prefix/]name. */
export function isQualifiedName(key: string): boolean {
  const parts = key.split("/");
  if (parts.length > 2) return false;
  const name = parts.length === 2 ? (parts[1] as string) : key;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && NAME_PART.test(name);
}

/** validation.IsValidLabelValue. */
export const isValidLabelValue = (value: string): boolean => value.length <= 63 && LABEL_VALUE.test(value);

/** strconv.ParseInt(s, 10, 64); undefined when Go would return an error. */
export function parseInt64(s: string): bigint | undefined {
  if (!GO_INT.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

const LABEL_OPS: ReadonlySet<string> = new Set(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]);

// labels.NewRequirement's checks, applied to a NodeSelectorRequirement.
function compileLabel(r: NodeSelectorRequirement): LabelRequirement | undefined {
  const values = r.values ?? [];
  if (!LABEL_OPS.has(r.operator) || !isQualifiedName(r.key)) return undefined;
  const op = r.operator as LabelOp;
  let bound = 0n;
  if (op === "In" || op === "NotIn") {
    if (values.length === 0) return undefined;
  } else if (op === "Exists" || op === "DoesNotExist") {
    if (values.length !== 0) return undefined;
  } else {
    const parsed = values.length === 1 ? parseInt64(values[0] as string) : undefined;
    if (parsed === undefined) return undefined;
    bound = parsed;
  }
  if (!values.every(isValidLabelValue)) return undefined;
  return { key: r.key, op, values: new Set(values), bound };
}

// nodeSelectorRequirementsAsFieldSelector: In/NotIn with exactly one value.
function compileField(r: NodeSelectorRequirement): FieldRequirement | undefined {
  const values = r.values ?? [];
  if ((r.operator !== "In" && r.operator !== "NotIn") || values.length !== 1) return undefined;
  return { key: r.key, in: r.operator === "In", value: values[0] as string };
}

export const isEmptyTerm = (t: NodeSelectorTerm): boolean =>
  (t.matchExpressions?.length ?? 0) === 0 && (t.matchFields?.length ?? 0) === 0;

export function compileTerm(t: NodeSelectorTerm): CompiledTerm {
  const labels: LabelRequirement[] = [];
  const fields: FieldRequirement[] = [];
  let valid = true;
  for (const r of t.matchExpressions ?? []) {
    const c = compileLabel(r);
    if (c === undefined) valid = false;
    else labels.push(c);
  }
  for (const r of t.matchFields ?? []) {
    const c = compileField(r);
    if (c === undefined) valid = false;
    else fields.push(c);
  }
  return { labels, fields, valid };
}

function matchLabel(r: LabelRequirement, labels: ReadonlyMap<string, string>): boolean {
  const value = labels.get(r.key);
  switch (r.op) {
    case "In":
      return value !== undefined && r.values.has(value);
    case "NotIn":
      return value === undefined || !r.values.has(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default: {
      if (value === undefined) return false;
      const n = parseInt64(value);
      if (n === undefined) return false;
      return r.op === "Gt" ? n > r.bound : n < r.bound;
    }
  }
}

/** Node fields are just metadata.name; any other field reads as "" (fields.Set.Get). */
const matchField = (r: FieldRequirement, nodeName: string): boolean =>
  ((r.key === "metadata.name" ? nodeName : "") === r.value) === r.in;

export function matchTerm(
  term: CompiledTerm,
  labels: ReadonlyMap<string, string>,
  nodeName: string,
): boolean {
  if (!term.valid) return false;
  for (const r of term.labels) if (!matchLabel(r, labels)) return false;
  // nodeaffinity.go skips field matching for a node without a name.
  if (nodeName.length > 0) for (const r of term.fields) if (!matchField(r, nodeName)) return false;
  return true;
}

/** One label requirement over a snapshot's label column: value id → match, plus the answer for "label absent". */
interface ColumnRequirement {
  readonly ids: Int32Array;
  readonly allowed: Uint8Array;
  readonly whenAbsent: boolean;
}

/** A compiled term bound to one snapshot: matching node i is a few integer reads. */
export interface ColumnTerm {
  readonly valid: boolean;
  readonly labels: readonly ColumnRequirement[];
  /** metadata.name requirements as node indexes (-1 when no node has the name). */
  readonly fields: ReadonlyArray<{ readonly index: number; readonly in: boolean }>;
}

export interface LabelColumnSource {
  readonly ids: Int32Array;
  readonly valueIds: ReadonlyMap<string, number>;
}

// Evaluates the requirement once per distinct label value instead of once per node.
function bindLabel(r: LabelRequirement, column: LabelColumnSource): ColumnRequirement {
  const allowed = new Uint8Array(column.valueIds.size);
  const probe = new Map<string, string>();
  for (const [value, id] of column.valueIds) {
    probe.set(r.key, value);
    allowed[id] = matchLabel(r, probe) ? 1 : 0;
  }
  return { ids: column.ids, allowed, whenAbsent: matchLabel(r, new Map()) };
}

export function bindTerm(
  term: CompiledTerm,
  columnOf: (key: string) => LabelColumnSource,
  indexOfNode: (name: string) => number,
): ColumnTerm {
  return {
    valid: term.valid,
    labels: term.labels.map((r) => bindLabel(r, columnOf(r.key))),
    fields: term.fields.map((f) => ({
      index: f.key === "metadata.name" ? indexOfNode(f.value) : -1,
      in: f.in,
    })),
  };
}

export function matchColumnTerm(term: ColumnTerm, i: number): boolean {
  if (!term.valid) return false;
  for (const r of term.labels) {
    const id = r.ids[i] as number;
    if (id < 0 ? !r.whenAbsent : r.allowed[id] === 0) return false;
  }
  for (const f of term.fields) if ((f.index === i) !== f.in) return false;
  return true;
}
