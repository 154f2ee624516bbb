// Node: the node's row, its birth facts, charts of its history (the coordinator's per-node history of
// CPU, memory, fullest disk and network rx/tx: an hour by minute and the last minutes by sample, the
// latter extended by the live stream), its Kubernetes pods and its recent placements.
import { h, replace } from "./dom.js";
import { ago, bytes, clock, duration, num, pct, period, rate, temp } from "./format.js";
import uPlot from "./uplot.js";

const LIVE_POINTS = 600;

/** Columns of chart data with empty (null) points at `from` and `to`, so the x axis spans that window. */
function framed(from, to, [t, ...series]) {
  const before = t.length === 0 || t[0] > from;
  const after = t.length === 0 || t[t.length - 1] < to;
  return [
    [...(before ? [from] : []), ...t, ...(after ? [to] : [])],
    ...series.map((s) => [...(before ? [null] : []), ...s, ...(after ? [null] : [])]),
  ];
}

export function nodeView(store, id) {
  const title = h("h1", {}, id);
  const stateLine = h("div", { class: "state-line" });
  const facts = h("div", { class: "facts" });
  const charts = h("div", { class: "charts" });
  const pods = h("div", { class: "pods" });
  const placements = h("div", { class: "placements" });
  const element = h(
    "section",
    { class: "node" },
    h("a", { href: "#/", class: "back" }, "← fleet"),
    title,
    stateLine,
    charts,
    h("div", { class: "columns" }, facts, h("div", {}, pods, placements)),
  );
  let plots = [];
  let recent;
  let liveSeries;
  let lastSeen = null;
  let gone = false;

  const chart = (name, opts, data) => {
    const box = h("div", { class: "chart", dataset: { chart: name } });
    charts.append(box);
    const plot = new uPlot(
      { width: Math.max(320, Math.floor((charts.clientWidth || 900) / 2) - 32), height: 220, ...opts },
      data,
      box,
    );
    plots.push(plot);
    return plot;
  };
  const pctAxis = { scale: "%", values: (_u, ticks) => ticks.map((v) => `${v}%`) };

  function showRow(row) {
    const now = store.now();
    replace(
      stateLine,
      h("span", { class: `badge ${row.state}` }, row.state),
      ` for ${duration(now - row.since)} · last seen ${ago(row.seen, now)} · CPU ${pct(row.cpu)} · memory ${pct(row.mem)} · disk ${pct(row.disk)} · load ${num(row.load)} · ${temp(row.temp)} · ↓ ${rate(row.rx)} ↑ ${rate(row.tx)}`,
    );
  }

  function showFacts(detail) {
    const b = detail.birth ?? {};
    const rows = [
      ["Node id", detail.row.id],
      ["Hostname", b.hostname],
      ["Kubernetes node", detail.row.k8s],
      ["OS", [b.os?.distro, b.os?.release, b.os?.arch].filter(Boolean).join(" ")],
      ["Kernel", b.os?.kernel],
      [
        "CPU",
        [b.cpu?.manufacturer, b.cpu?.model, b.cpu?.cores && `${b.cpu.cores} cores`].filter(Boolean).join(" "),
      ],
      ["Memory", b.memoryTotalBytes && bytes(b.memoryTotalBytes)],
      ["Agent", b.agentVersion],
      ["Sampling interval", period(detail.intervalMs)],
      ["Session", b.session],
      ...(b.filesystems ?? []).map((fs) => [
        `Disk ${fs.mount}`,
        `${fs.device ?? ""} ${fs.type ?? ""} ${bytes(fs.sizeBytes)}`,
      ]),
      ...(b.interfaces ?? []).map((i) => [
        `Interface ${i.name}`,
        `${(i.addresses ?? []).join(", ")} ${i.mac ?? ""}`,
      ]),
      ...Object.entries(b.labels ?? {}).map(([k, v]) => [`Label ${k}`, v]),
    ].filter(([, v]) => v !== undefined && v !== "");
    replace(
      facts,
      h("h2", {}, "Birth facts"),
      h(
        "table",
        { class: "kv" },
        h(
          "tbody",
          {},
          rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, String(v)))),
        ),
      ),
    );
  }

  function showPods(detail) {
    replace(
      pods,
      h("h2", {}, "Pods"),
      detail.pods === null
        ? h("p", { class: "muted" }, "standalone: no Kubernetes cluster")
        : detail.pods.length === 0
          ? h("p", { class: "muted" }, "no pods on this node")
          : h(
              "table",
              { class: "list" },
              h(
                "tbody",
                {},
                detail.pods.map((p) =>
                  h("tr", {}, h("td", {}, p.namespace), h("td", {}, p.name), h("td", {}, p.phase)),
                ),
              ),
            ),
    );
    replace(
      placements,
      h("h2", {}, "Recent placements"),
      detail.placements.length === 0
        ? h("p", { class: "muted" }, "no decisions placed a pod here")
        : h(
            "table",
            { class: "list" },
            h(
              "tbody",
              {},
              detail.placements
                .slice()
                .reverse()
                .map((d) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, clock(d.at)),
                    h("td", {}, d.pod),
                    h("td", {}, d.status),
                    h("td", {}, d.dryRun ? "dry run" : d.advisory ? "advisory" : ""),
                  ),
                ),
            ),
          ),
    );
  }

  function showCharts(detail) {
    const nowSec = Math.floor(store.now() / 1000);
    const m = detail.series.minutes;
    const r = detail.series.raw;
    chart(
      "hour",
      {
        title: "CPU and memory, last hour (per minute)",
        scales: {
          x: { time: true },
          "%": { range: [0, 100] },
        },
        axes: [{}, pctAxis],
        series: [
          {},
          { label: "CPU avg", stroke: "#2f7fd8", width: 2, scale: "%" },
          { label: "CPU max", stroke: "#9cc3ee", width: 1, scale: "%" },
          { label: "memory avg", stroke: "#d8862f", width: 2, scale: "%" },
        ],
      },
      framed(nowSec - 3600, nowSec, [m.t, m.cpu.avg, m.cpu.max, m.mem.avg]),
    );
    const [rt, rcpu, rmem] = framed(nowSec - 300, nowSec, [r.t, r.cpu, r.mem]);
    recent = { t: rt, cpu: rcpu, mem: rmem };
    chart(
      "recent",
      {
        title: "CPU and memory, last minutes (per sample)",
        scales: {
          x: { time: true },
          "%": { range: [0, 100] },
        },
        axes: [{}, pctAxis],
        series: [
          {},
          { label: "CPU", stroke: "#2f7fd8", width: 2, scale: "%", spanGaps: false },
          { label: "memory", stroke: "#d8862f", width: 2, scale: "%", spanGaps: false },
        ],
      },
      [recent.t, recent.cpu, recent.mem],
    );
    const rateAxis = {
      scale: "rate",
      side: 1,
      size: 80,
      values: (_u, ticks) => ticks.map(rate),
      grid: { show: false },
    };
    const diskNet = (diskLabel) => [
      {},
      { label: diskLabel, stroke: "#7a4fd8", width: 2, scale: "%", spanGaps: false },
      {
        label: "receive",
        stroke: "#2fa86a",
        width: 1,
        scale: "rate",
        spanGaps: false,
        value: (_u, v) => (v == null ? "–" : rate(v)),
      },
      {
        label: "transmit",
        stroke: "#c8423b",
        width: 1,
        scale: "rate",
        spanGaps: false,
        value: (_u, v) => (v == null ? "–" : rate(v)),
      },
    ];
    chart(
      "disk-net-hour",
      {
        title: "Fullest disk and network, last hour (per minute, averages)",
        scales: { x: { time: true }, "%": { range: [0, 100] }, rate: {} },
        axes: [{}, pctAxis, rateAxis],
        series: diskNet("fullest disk"),
      },
      framed(nowSec - 3600, nowSec, [m.t, m.disk.avg, m.rx.avg, m.tx.avg]),
    );
    const [lt, ldisk, lrx, ltx] = framed(nowSec - 300, nowSec, [r.t, r.disk, r.rx, r.tx]);
    liveSeries = { t: lt, disk: ldisk, rx: lrx, tx: ltx };
    chart(
      "live",
      {
        title: "Fullest disk and network, last minutes (per sample)",
        scales: { x: { time: true }, "%": { range: [0, 100] }, rate: {} },
        axes: [{}, pctAxis, rateAxis],
        series: diskNet("fullest disk"),
      },
      [liveSeries.t, liveSeries.disk, liveSeries.rx, liveSeries.tx],
    );
  }

  function onLive(row) {
    showRow(row);
    if (row.seen === null || row.seen === lastSeen) return;
    lastSeen = row.seen;
    const t = Math.floor(row.seen / 1000);
    if (recent && plots[1]) {
      // The empty point that framed the window goes once real samples reach it; x stays sorted.
      while (
        recent.t.length > 0 &&
        recent.t[recent.t.length - 1] >= t &&
        recent.cpu[recent.cpu.length - 1] === null
      ) {
        recent.t.pop();
        recent.cpu.pop();
        recent.mem.pop();
      }
      if (recent.t.length > 0 && recent.t[recent.t.length - 1] > t) return;
      recent.t.push(t);
      recent.cpu.push(row.cpu);
      recent.mem.push(row.mem);
      const cut = recent.t.length - LIVE_POINTS;
      if (cut > 0) for (const k of ["t", "cpu", "mem"]) recent[k].splice(0, cut);
      plots[1].setData([recent.t, recent.cpu, recent.mem]);
    }
    if (liveSeries && plots[3]) {
      const ls = liveSeries;
      while (ls.t.length > 0 && ls.t[ls.t.length - 1] >= t && ls.disk[ls.disk.length - 1] === null) {
        for (const k of ["t", "disk", "rx", "tx"]) ls[k].pop();
      }
      if (ls.t.length > 0 && ls.t[ls.t.length - 1] > t) return;
      liveSeries.t.push(t);
      liveSeries.disk.push(row.disk);
      liveSeries.rx.push(row.rx);
      liveSeries.tx.push(row.tx);
      const cut = liveSeries.t.length - LIVE_POINTS;
      if (cut > 0) for (const k of ["t", "disk", "rx", "tx"]) liveSeries[k].splice(0, cut);
      plots[3].setData([liveSeries.t, liveSeries.disk, liveSeries.rx, liveSeries.tx]);
    }
  }

  async function load() {
    const res = await fetch(`/api/node/${encodeURIComponent(id)}`);
    if (gone) return;
    if (!res.ok) {
      replace(
        stateLine,
        h("p", { class: "error" }, res.status === 404 ? "no such node" : `cannot load: HTTP ${res.status}`),
      );
      return;
    }
    const detail = await res.json();
    if (gone) return;
    title.textContent =
      detail.row.host && detail.row.host !== detail.row.id
        ? `${detail.row.id} (${detail.row.host})`
        : detail.row.id;
    lastSeen = detail.row.seen;
    showRow(store.rows.get(id) ?? detail.row);
    showFacts(detail);
    showPods(detail);
    showCharts(detail);
    element.dataset.loaded = "true";
  }

  const unsubscribe = store.subscribe((change) => {
    if (change.kind === "status") return;
    if (change.ids !== null && !change.ids.has(id)) return;
    const row = store.rows.get(id);
    if (row) onLive(row);
  });
  return {
    element,
    mounted: () => {
      load().catch((err) => replace(stateLine, h("p", { class: "error" }, `cannot load: ${err.message}`)));
    },
    destroy() {
      gone = true;
      unsubscribe();
      for (const p of plots) p.destroy();
      plots = [];
    },
  };
}
