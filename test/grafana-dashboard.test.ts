// deploy/grafana/k3s-fleet-dashboard.json must stay in step with the coordinator's metrics: it parses, its
// panels are laid out and wired to the datasource variable, and every query uses only metric names
// coordinator/http/metrics.ts and coordinator/leader/metrics.ts register (histograms with their _bucket/_sum/_count series). With
// @prometheus-io/lezer-promql installed (the Prometheus UI's PromQL grammar), every query must also parse.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8");

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
}

const dashboard = JSON.parse(read("../deploy/grafana/k3s-fleet-dashboard.json")) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== "row");

// The metric names the coordinator registers, read from its source so a rename fails here.
const source = read("../coordinator/http/metrics.ts") + read("../coordinator/leader/metrics.ts");
const histograms = [...source.matchAll(/new Histogram\(\{\s*name:\s*"(k3sfleet_[a-z0-9_]+)"/g)].map(
  (m) => m[1],
);
const registered = [...new Set([...source.matchAll(/"(k3sfleet_[a-z0-9_]+)"/g)].map((m) => m[1] as string))];
const known = new Set([
  ...registered,
  ...histograms.flatMap((name) => [`${name}_bucket`, `${name}_sum`, `${name}_count`]),
]);

/** Every query: panel targets and template-variable queries. */
const queries: Array<{ where: string; expr: string }> = [
  ...queryPanels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? "" })),
  ),
  ...dashboard.templating.list
    .filter((v) => v.type === "query")
    .map((v) => ({ where: `variable $${v.name}`, expr: v.definition ?? "" })),
];

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, or label names. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutSelectors = withoutStrings.replace(/\{[^}]*\}/g, "{}").replace(/\[[^\]]*\]/g, "[]");
  const withoutGrouping = withoutSelectors.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    "",
  );
  return [...withoutGrouping.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] as string)
    .filter((name) => name.startsWith("k3sfleet_") || !/^(and|or|unless|bool|offset|le|inf|nan)$/i.test(name))
    .filter((name) => !/^\d/.test(name));
}

/** Grafana's variables replaced by values Prometheus would see. */
const interpolate = (expr: string) =>
  expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, "5m")
    .replace(/\$\{?(\w+)\}?/g, (_m, name: string) => `${name}-value`);

describe("Grafana dashboard (deploy/grafana/k3s-fleet-dashboard.json)", () => {
  it("parses and has the three sections: fleet overview, nodes, scheduling", () => {
    expect(dashboard.uid).toBe("k3s-fleet");
    const rows = panels.filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(["Fleet overview", "Nodes", "Scheduling"]);
    expect(registered.length).toBeGreaterThanOrEqual(12);
    expect(histograms).toContain("k3sfleet_schedule_decision_seconds");
  });

  it("has unique panel ids and a layout inside the 24-column grid", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.gridPos.h, p.title).toBeGreaterThan(0);
    }
  });

  it("queries the datasource chosen in the $datasource variable", () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(
      expect.arrayContaining(["datasource", "instance", "node"]),
    );
    for (const p of queryPanels) {
      // Grafana's variable syntax, not a template literal.
      expect(p.datasource?.uid, p.title).toBe(["$", "{datasource}"].join(""));
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it.each(queries.map((q) => [q.where, q.expr] as const))("%s uses only known metrics", (_where, expr) => {
    const names = metricNames(expr);
    const metrics = names.filter((n) => n.startsWith("k3sfleet_"));
    expect(metrics.length, expr).toBeGreaterThan(0);
    for (const name of metrics) expect(known, `${name} in ${expr}`).toContain(name);
  });

  it("uses every metric the coordinator exports", () => {
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
    const unused = registered.filter(
      (name) => !used.has(name) && ![...used].some((u) => u.startsWith(`${name}_`)),
    );
    expect(unused).toEqual([]);
  });

  it("every query is valid PromQL (when @prometheus-io/lezer-promql is installed)", async () => {
    let parser: {
      parse(input: string): {
        iterate(spec: { enter(node: { type: { isError: boolean }; from: number }): void }): void;
      };
    };
    try {
      createRequire(import.meta.url).resolve("@prometheus-io/lezer-promql");
      ({ parser } = await import("@prometheus-io/lezer-promql" as string));
    } catch {
      console.warn("skipping PromQL syntax check: @prometheus-io/lezer-promql is not installed");
      return;
    }
    for (const { where, expr } of queries) {
      const text = where.startsWith("variable")
        ? interpolate(expr.replace(/^label_values\((.*), *\w+\)$/, "$1"))
        : interpolate(expr);
      const errors: number[] = [];
      parser.parse(text).iterate({
        enter(node) {
          if (node.type.isError) errors.push(node.from);
        },
      });
      expect(errors, `${where}: ${text}`).toEqual([]);
    }
  });
});
