// Scheduling: the recent decisions (MQTT requests and pending pods) newest first, each with outcome,
// node, latency and its explanation: the chosen node's and the runner-up's per-plugin scores as bars, or
// for an unschedulable pod kube-scheduler's message with the per-node filter reasons (expandable); and the
// analytics over the window (counts, p50/p99, placements, reasons).
import { h, nodeHref, replace } from "./dom.js";
import { clock, num } from "./format.js";

const SHOWN = 200;

export function schedulingView(store) {
  const summary = h("div", { class: "summary" });
  const analytics = h("div", { class: "analytics" });
  const list = h("div", { class: "decisions" });
  const element = h(
    "section",
    { class: "scheduling" },
    h("h1", {}, "Scheduling"),
    summary,
    analytics,
    h("h2", {}, "Recent decisions"),
    list,
  );
  const open = new Set();
  /** Decisions whose per-node reasons are expanded: a re-render keeps them so. */
  const openReasons = new Set();

  function card(label, value, key) {
    return h(
      "div",
      { class: "card", dataset: { stat: key } },
      h("div", { class: "value" }, value),
      h("div", { class: "label" }, label),
    );
  }

  function barList(title, entries, cls) {
    const max = Math.max(1, ...entries.map(([, v]) => v));
    return h(
      "div",
      { class: `bar-list ${cls}` },
      h("h3", {}, title),
      entries.length === 0
        ? h("p", { class: "muted" }, "none")
        : entries.map(([k, v]) =>
            h(
              "div",
              { class: "bar-item" },
              h("span", { class: "bar-label", title: k }, k),
              h(
                "span",
                { class: "bar-track" },
                h("span", { class: "bar-fill", style: { width: `${(v / max) * 100}%` } }),
              ),
              h("span", { class: "bar-value" }, String(v)),
            ),
          ),
    );
  }

  function scoreBars(node, score, scores, role) {
    if (scores.length === 0) return null;
    return h(
      "div",
      { class: `scores ${role}`, dataset: { node, role } },
      h(
        "div",
        { class: "scores-title" },
        `${role === "winner" ? "Chosen" : "Runner-up"} ${node}: score ${num(score)} (per plugin, 0–100 before weighting)`,
      ),
      scores.map((s) =>
        h(
          "div",
          { class: "score", dataset: { plugin: s.plugin } },
          h("span", { class: "plugin", title: s.plugin }, s.plugin),
          h(
            "span",
            { class: "bar-track" },
            h("span", {
              class: `bar-fill score-fill ${role}`,
              style: { width: `${Math.max(0, Math.min(100, s.score))}%` },
            }),
          ),
          h("span", { class: "bar-value" }, `${num(s.score)} ×${s.weight}`),
        ),
      ),
    );
  }

  // kube-scheduler's message, then node → filter → reason for the first nodes and counts for the rest.
  function rejectionsView(d) {
    const r = d.rejections;
    if (r === null || r.total === 0) return null;
    const listed = r.nodes.length;
    return h(
      "details",
      {
        class: "rejections",
        open: openReasons.has(d.id),
        ontoggle: (e) => {
          if (e.target.open) openReasons.add(d.id);
          else openReasons.delete(d.id);
        },
      },
      h("summary", {}, `Per-node filter reasons (${r.total} node${r.total === 1 ? "" : "s"})`),
      h(
        "table",
        { class: "rejection-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "node"), h("th", {}, "filter"), h("th", {}, "reason"))),
        h(
          "tbody",
          {},
          r.nodes.map((n) =>
            h(
              "tr",
              { dataset: { node: n.node } },
              h("td", {}, h("a", { href: nodeHref(n.node) }, n.node)),
              h("td", {}, n.filter),
              h("td", { class: "reason" }, n.reason),
            ),
          ),
        ),
      ),
      r.more.length === 0
        ? null
        : h(
            "div",
            { class: "more-reasons" },
            h("div", { class: "scores-title" }, `The other ${r.total - listed} nodes, by reason`),
            h(
              "ul",
              {},
              r.more.map(([reason, count]) =>
                h("li", {}, `${count} × `, h("span", { class: "reason" }, reason)),
              ),
            ),
          ),
    );
  }

  function decision(d) {
    const expanded = open.has(d.id) || d.id === store.decisions.at(-1)?.id;
    const unschedulable = d.status === "unschedulable";
    const details = h(
      "div",
      { class: "explain", hidden: !expanded },
      d.message && d.scores.length === 0 && (unschedulable || d.reasons.length === 0)
        ? h("div", { class: "message" }, d.message)
        : null,
      d.scores.length > 0
        ? h(
            "div",
            { class: "score-compare" },
            scoreBars(d.node, d.score, d.scores, "winner"),
            d.runnerUp === null
              ? h("div", { class: "scores runner-up muted" }, "no runner-up (one feasible node)")
              : scoreBars(d.runnerUp.node, d.runnerUp.score, d.runnerUp.scores, "runner-up"),
          )
        : null,
      rejectionsView(d),
      d.reasons.length > 0 && d.rejections === null
        ? h(
            "div",
            { class: "reasons" },
            h(
              "div",
              { class: "scores-title" },
              unschedulable ? "Why no node fits (filter reasons)" : "Reason",
            ),
            h(
              "ul",
              {},
              d.reasons.map((r) => h("li", {}, r)),
            ),
          )
        : null,
    );
    const item = h(
      "div",
      { class: `decision ${d.status}`, dataset: { id: String(d.id), request: d.requestId } },
      h(
        "div",
        {
          class: "decision-head",
          onclick: () => {
            details.hidden = !details.hidden;
            if (details.hidden) open.delete(d.id);
            else open.add(d.id);
          },
        },
        h("span", { class: "time" }, clock(d.at)),
        h("span", { class: `badge ${d.status}` }, d.status),
        h("span", { class: "source" }, d.source === "mqtt" ? "request" : "pending pod"),
        h("span", { class: "pod" }, d.pod || d.requestId || "(unnamed)"),
        d.node
          ? h("a", { class: "node-link", href: nodeHref(d.node) }, d.node)
          : h("span", { class: "muted" }, "no node"),
        h("span", { class: "latency" }, `${num(d.latencyMs, 1)} ms`),
        d.dryRun ? h("span", { class: "tag" }, "dry run") : null,
        d.advisory ? h("span", { class: "tag" }, "advisory") : null,
        d.running ? h("span", { class: "tag ok" }, "running") : null,
      ),
      details,
    );
    return item;
  }

  function render() {
    const s = store.summary;
    if (s === null) {
      replace(summary, h("p", { class: "muted" }, "scheduling is off on this coordinator"));
      replace(analytics);
    } else {
      replace(
        summary,
        card("decisions", String(s.decisions), "decisions"),
        card("scheduled", String(s.scheduled), "scheduled"),
        card("unschedulable", String(s.unschedulable), "unschedulable"),
        card("rejected", String(s.rejected), "rejected"),
        card("errors", String(s.errors), "errors"),
        card("reached Running", String(s.reachedRunning), "running"),
        card("latency p50", `${num(s.latencyP50Ms, 1)} ms`, "p50"),
        card("latency p99", `${num(s.latencyP99Ms, 1)} ms`, "p99"),
      );
      const top = (m) =>
        Object.entries(m)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 15);
      replace(
        analytics,
        barList("Placements per node", top(s.placementsPerNode), "placements"),
        barList("Unschedulable reasons", top(s.unschedulableReasons), "reasons"),
      );
    }
    const recent = store.decisions.slice(-SHOWN).reverse();
    replace(
      list,
      recent.length === 0 ? h("p", { class: "muted" }, "no decisions yet") : recent.map(decision),
    );
  }

  const unsubscribe = store.subscribe((change) => {
    if (change.kind === "snapshot" || (change.kind === "delta" && change.decisions > 0)) render();
  });
  return {
    element,
    mounted: render,
    destroy: unsubscribe,
  };
}
