// Fleet: every node in a virtualised table (only the rows in view exist in the DOM, so 10,000 nodes
// cost what 40 do), sortable by any column, filtered by text, label and state; counts by state on top.
import { h, nodeHref, replace } from "./dom.js";
import { ago, duration, labelText, num, pct, temp } from "./format.js";
import { mark, measure } from "./perf.js";

const ROW_HEIGHT = 28;
const OVERSCAN = 6;
const STATES = ["online", "stale", "offline"];
const STATE_RANK = { online: 0, stale: 1, offline: 2 };

/** key, title, how to sort (value of a row), how to show it. */
const COLUMNS = [
  { key: "id", title: "Node", value: (r) => r.id },
  { key: "host", title: "Host", value: (r) => r.host },
  { key: "state", title: "State", value: (r) => STATE_RANK[r.state] },
  { key: "since", title: "For", value: (r) => -r.since },
  { key: "cpu", title: "CPU", value: (r) => r.cpu },
  { key: "mem", title: "Memory", value: (r) => r.mem },
  { key: "disk", title: "Disk", value: (r) => r.disk },
  { key: "load", title: "Load", value: (r) => r.load },
  { key: "temp", title: "Temp", value: (r) => r.temp ?? -1000 },
  { key: "seen", title: "Last seen", value: (r) => r.seen ?? 0 },
  { key: "k8s", title: "K8s node", value: (r) => r.k8s },
  { key: "pods", title: "Pods", value: (r) => r.pods ?? -1 },
  { key: "labels", title: "Labels", value: (r) => labelText(r.labels) },
];

export function fleetView(store) {
  const view = { sort: "cpu", dir: -1, text: "", label: "", states: new Set(STATES) };
  let list = [];
  let stale = true;
  let frame = 0;
  let firstRendered = false;

  const counts = h("div", { class: "counts" });
  const text = h("input", {
    type: "search",
    placeholder: "filter: node, host, k8s node, label",
    ariaLabel: "text filter",
    oninput: () => {
      view.text = text.value.trim().toLowerCase();
      changed();
    },
  });
  const label = h("input", {
    type: "search",
    placeholder: "label: key or key=value",
    ariaLabel: "label filter",
    oninput: () => {
      view.label = label.value.trim();
      changed();
    },
  });
  const stateBoxes = STATES.map((s) =>
    h(
      "label",
      { class: `state-toggle ${s}` },
      h("input", {
        type: "checkbox",
        checked: true,
        dataset: { state: s },
        onchange: (e) => {
          if (e.target.checked) view.states.add(s);
          else view.states.delete(s);
          changed();
        },
      }),
      s,
    ),
  );
  const shown = h("span", { class: "shown" });
  const headCells = COLUMNS.map((col) =>
    h(
      "div",
      {
        class: `cell c-${col.key}`,
        role: "columnheader",
        dataset: { key: col.key },
        onclick: () => sortBy(col.key),
      },
      col.title,
    ),
  );
  const head = h("div", { class: "grid head", role: "row" }, headCells);
  const spacer = h("div", { class: "spacer" });
  const viewport = h("div", { class: "viewport", role: "rowgroup", onscroll: () => schedule() }, spacer);
  const table = h("div", { class: "fleet-table", role: "table", ariaLabel: "fleet" }, head, viewport);
  const element = h(
    "section",
    { class: "fleet" },
    counts,
    h("div", { class: "filters" }, text, label, stateBoxes, shown),
    table,
  );
  const pool = [];

  function sortBy(key) {
    if (view.sort === key) view.dir = -view.dir;
    else {
      view.sort = key;
      view.dir = ["id", "host", "k8s", "labels", "state"].includes(key) ? 1 : -1;
    }
    changed();
  }

  function changed() {
    stale = true;
    schedule();
  }

  function schedule() {
    if (frame === 0) frame = requestAnimationFrame(render);
  }

  function matches(row) {
    if (!view.states.has(row.state)) return false;
    if (view.label) {
      const eq = view.label.indexOf("=");
      const key = eq < 0 ? view.label : view.label.slice(0, eq);
      if (!Object.hasOwn(row.labels, key)) return false;
      if (eq >= 0 && row.labels[key] !== view.label.slice(eq + 1)) return false;
    }
    if (view.text) {
      const t = view.text;
      if (
        !row.id.toLowerCase().includes(t) &&
        !row.host.toLowerCase().includes(t) &&
        !row.k8s.toLowerCase().includes(t) &&
        !labelText(row.labels).toLowerCase().includes(t)
      )
        return false;
    }
    return true;
  }

  function rebuild() {
    const col = COLUMNS.find((c) => c.key === view.sort) ?? COLUMNS[0];
    const dir = view.dir;
    const keyed = [];
    for (const row of store.rows.values()) if (matches(row)) keyed.push({ row, k: col.value(row) });
    keyed.sort((a, b) =>
      a.k < b.k ? -dir : a.k > b.k ? dir : a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0,
    );
    list = keyed.map((x) => x.row);
    stale = false;
    for (const cell of headCells) {
      const on = cell.dataset.key === view.sort;
      cell.classList.toggle("sorted", on);
      cell.dataset.dir = on ? (dir > 0 ? "asc" : "desc") : "";
    }
  }

  function makeRow() {
    const cells = {};
    const link = h("a", { class: "node-link" });
    const row = h(
      "div",
      { class: "grid row", role: "row" },
      COLUMNS.map((col) => {
        cells[col.key] = h("div", { class: `cell c-${col.key}`, role: "cell" });
        return cells[col.key];
      }),
    );
    cells.id.append(link);
    const bars = {};
    for (const key of ["cpu", "mem", "disk"]) {
      bars[key] = { fill: h("span", { class: "fill" }), text: document.createTextNode("") };
      cells[key].append(h("span", { class: "bar" }, bars[key].fill), bars[key].text);
    }
    spacer.append(row);
    return { row, cells, link, bars, id: undefined };
  }

  function fill(slot, r, now) {
    const { cells, link, bars } = slot;
    if (slot.id !== r.id) {
      slot.id = r.id;
      link.textContent = r.id;
      link.href = nodeHref(r.id);
      slot.row.dataset.node = r.id;
    }
    cells.host.textContent = r.host;
    cells.state.textContent = r.state;
    slot.row.className = `grid row ${r.state}`;
    cells.since.textContent = duration(now - r.since);
    for (const key of ["cpu", "mem", "disk"]) {
      bars[key].fill.style.width = `${Math.max(0, Math.min(100, r[key]))}%`;
      bars[key].text.data = pct(r[key]);
    }
    cells.load.textContent = num(r.load);
    cells.temp.textContent = temp(r.temp);
    cells.seen.textContent = ago(r.seen, now);
    cells.k8s.textContent = r.k8s;
    cells.pods.textContent = r.pods === null ? "–" : String(r.pods);
    const labels = labelText(r.labels);
    cells.labels.textContent = labels;
    cells.labels.title = labels;
  }

  function render() {
    frame = 0;
    const start = performance.now();
    if (stale) rebuild();
    const c = store.counts;
    replace(
      counts,
      h("span", { class: "count total", dataset: { count: "total" } }, `${c.total} nodes`),
      ...STATES.map((s) => h("span", { class: `count ${s}`, dataset: { count: s } }, `${c[s]} ${s}`)),
    );
    shown.textContent = `showing ${list.length} of ${store.rows.size}`;
    spacer.style.height = `${list.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    while (pool.length < visible) pool.push(makeRow());
    const now = store.now();
    for (let i = 0; i < pool.length; i++) {
      const slot = pool[i];
      const r = list[first + i];
      if (r === undefined) {
        slot.row.hidden = true;
        continue;
      }
      slot.row.hidden = false;
      slot.row.style.transform = `translateY(${(first + i) * ROW_HEIGHT}px)`;
      fill(slot, r, now);
    }
    // Timings for bench/web.bench.ts (and anyone profiling the page): each render, and the first with rows.
    measure("k3sf:fleet-render", start, list.length);
    if (!firstRendered && store.rows.size > 0) {
      firstRendered = true;
      mark("k3sf:fleet-first-render", store.rows.size);
    }
  }

  const unsubscribe = store.subscribe((change) => {
    if (change.kind !== "status") changed();
  });
  const ticker = setInterval(schedule, 1000);
  return {
    element,
    mounted: () => changed(),
    destroy() {
      unsubscribe();
      clearInterval(ticker);
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
