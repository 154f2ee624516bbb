// The live fleet: one EventSource on /api/events. A snapshot fills the store when it connects (and
// again after every reconnect); deltas (at most one a second) update it. Views subscribe to changes.

import { measure } from "./perf.js";

const MAX_DECISIONS = 500;

export function createStore() {
  const rows = new Map();
  let counts = { total: 0, online: 0, stale: 0, offline: 0 };
  let decisions = [];
  let summary = null;
  /** Server clock minus ours, so "ago" times use the coordinator's clock. */
  let skew = 0;
  let connected = false;
  const listeners = new Set();
  let source;

  const emit = (change) => {
    for (const fn of [...listeners]) fn(change);
  };

  function onSnapshot(data) {
    rows.clear();
    for (const row of data.rows) rows.set(row.id, row);
    counts = data.counts;
    decisions = data.decisions ?? [];
    summary = data.summary ?? null;
    skew = data.t - Date.now();
    emit({ kind: "snapshot", ids: null });
  }

  function onDelta(data) {
    const start = performance.now();
    // A row leaves out the fields that did not change (labels, host, Kubernetes node): keep ours.
    for (const row of data.upsert) {
      const old = rows.get(row.id);
      rows.set(
        row.id,
        old === undefined ? { labels: {}, host: "", k8s: row.id, ...row } : { ...old, ...row },
      );
    }
    for (const id of data.remove) rows.delete(id);
    if (data.counts) counts = data.counts;
    if (data.decisions?.length) {
      decisions = decisions.concat(data.decisions).slice(-MAX_DECISIONS);
    }
    if (data.summary !== undefined) summary = data.summary;
    skew = data.t - Date.now();
    emit({
      kind: "delta",
      ids: new Set([...data.upsert.map((r) => r.id), ...data.remove]),
      decisions: data.decisions?.length ?? 0,
    });
    // Cost of applying one delta (views schedule their render for the next frame): read by bench/web.bench.ts.
    measure("k3sf:delta", start, data.upsert.length);
  }

  function status(value) {
    connected = value;
    emit({ kind: "status", ids: new Set() });
  }

  return {
    rows,
    get counts() {
      return counts;
    },
    get decisions() {
      return decisions;
    },
    get summary() {
      return summary;
    },
    get connected() {
      return connected;
    },
    now: () => Date.now() + skew,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    connect() {
      source = new EventSource("/api/events");
      source.addEventListener("snapshot", (e) => {
        status(true);
        onSnapshot(JSON.parse(e.data));
      });
      source.addEventListener("delta", (e) => onDelta(JSON.parse(e.data)));
      source.addEventListener("error", () => status(false));
    },
  };
}
