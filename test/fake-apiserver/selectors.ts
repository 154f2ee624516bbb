// Label selectors (k8s.io/apimachinery/pkg/labels.Parse) and field selectors (pkg/fields.ParseSelector).
// Semantics kept from upstream: `!=` and `notin` also match objects that lack the label; field selectors
// only know the fields each resource registers (others are a 400 "field label not supported").
import { badRequest } from "./status.ts";

type LabelOp = "exists" | "!exists" | "=" | "!=" | "in" | "notin" | "gt" | "lt";

interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;
export type FieldSelector = (fields: Record<string, string>) => boolean;

const KEY = String.raw`(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const VALUE = "(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const KEY_RE = new RegExp(`^${KEY}$`);
const VALUE_RE = new RegExp(`^${VALUE}$`);

/** Splits on commas outside parentheses: "a in (x,y),b" → ["a in (x,y)", "b"]. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim());
}

function parseRequirement(text: string): LabelRequirement {
  const fail = (why: string) => badRequest(`unable to parse requirement: ${JSON.stringify(text)}: ${why}`);
  let m = /^!\s*(\S+)$/.exec(text);
  if (m?.[1]) return checked({ key: m[1], op: "!exists", values: [] }, fail);
  m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (m?.[1] && m[2]) {
    const values = (m[3] ?? "").split(",").map((v) => v.trim());
    return checked({ key: m[1], op: m[2] as "in" | "notin", values }, fail);
  }
  m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(text);
  if (m?.[1] && m[2]) {
    const op = m[2] === "==" || m[2] === "=" ? "=" : m[2] === "!=" ? "!=" : m[2] === ">" ? "gt" : "lt";
    return checked({ key: m[1], op, values: [m[3] ?? ""] }, fail);
  }
  if (/^\S+$/.test(text)) return checked({ key: text, op: "exists", values: [] }, fail);
  throw fail("found unexpected token");
}

function checked(req: LabelRequirement, fail: (why: string) => Error): LabelRequirement {
  if (!KEY_RE.test(req.key) || req.key.length > 317)
    throw fail(`invalid label key ${JSON.stringify(req.key)}`);
  if (req.op === "gt" || req.op === "lt") {
    if (!/^-?\d+$/.test(req.values[0] ?? ""))
      throw fail("for 'Gt', 'Lt' operators, the value must be an integer");
    return req;
  }
  for (const value of req.values) {
    if (!VALUE_RE.test(value) || value.length > 63)
      throw fail(`invalid label value: ${JSON.stringify(value)}`);
  }
  return req;
}

function matches(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.op) {
    case "exists":
      return has;
    case "!exists":
      return !has;
    case "=":
      return has && value === req.values[0];
    case "!=":
      return !has || value !== req.values[0];
    case "in":
      return has && req.values.includes(value ?? "");
    case "notin":
      return !has || !req.values.includes(value ?? "");
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value ?? "")) return false;
      const diff = Number(value) - Number(req.values[0]);
      return req.op === "gt" ? diff > 0 : diff < 0;
    }
  }
}

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text?.trim()) return () => true;
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (labels) => requirements.every((req) => matches(req, labels ?? {}));
}

/** Unescapes `\,` `\=` `\\` in field selector values. */
function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

export function parseFieldSelector(
  text: string | null | undefined,
  supported: readonly string[],
): FieldSelector {
  if (!text?.trim()) return () => true;
  const terms = text.split(/(?<!\\),/).map((term) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m?.[1] || !m[2]) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1];
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, negate: m[2] === "!=", value: unescapeValue(m[3] ?? "") };
  });
  return (fields) => terms.every((t) => ((fields[t.field] ?? "") === t.value) !== t.negate);
}
