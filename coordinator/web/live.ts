// Server-Sent Events for the web view: each page gets a snapshot when it connects, then at most one
// delta a second (rows that changed, ids gone, new decisions), computed and serialised once per tick for
// all pages. The tick runs only while a page is connected. A page that cannot keep up is not buffered
// without bound: past `maxBufferedBytes` unsent it gets no deltas, and once drained a fresh snapshot.
import type { ServerResponse } from "node:http";
import { setImmediate as nextTurn } from "node:timers/promises";
import { type IntervalTimers, REAL_INTERVAL_TIMERS } from "../../common/timers.ts";
import { runSliced } from "../report/run-sliced.ts";
import { countStates, diffRows, type FleetRow, type StateCounts, sameLabels } from "./rows.ts";
import type { DecisionView, SummaryView } from "./views.ts";

export interface LiveSource {
  rows(now: number): Map<string, FleetRow>;
  /** The same rows built a slice at a time (the tick uses it when given, so ingest runs in between). */
  rowsInSlices?(now: number): Generator<void, Map<string, FleetRow>>;
  /** Decisions with an id above `afterId`, oldest first (at most `limit`, the newest ones). */
  decisions(afterId: number, limit: number): DecisionView[];
  summary(): SummaryView | null;
}

/** The feed's tick timer: common/timers.ts's repeating one. */
export type LiveTimers = IntervalTimers;

export interface LiveOptions {
  source: LiveSource;
  now: () => number;
  periodMs?: number;
  /** Bytes a page may have unsent before it gets no more deltas (until drained). */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  timers?: LiveTimers;
  onError?: (error: unknown) => void;
}

export interface LiveHub {
  /** Streams to `res` until it closes; `node` limits rows to that node. */
  attach(res: ServerResponse, filter?: { node?: string }): void;
  clients(): number;
  /** One tick now (tests drive the hub with this); resolves when it has written to every page. */
  tick(): Promise<void>;
  close(): void;
}

interface Client {
  res: ServerResponse;
  node?: string;
  /** Deltas were skipped: once drained it gets a snapshot. */
  behind: boolean;
}

const SNAPSHOT_DECISIONS = 200;
/** Changed rows serialised per turn of the event loop. */
const SERIALISE_SLICE_ROWS = 500;
const DELTA_DECISIONS = 200;

export function createLiveHub(options: LiveOptions): LiveHub {
  const { source, now } = options;
  const periodMs = options.periodMs ?? 1000;
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const heartbeatEvery = Math.max(1, Math.round((options.heartbeatMs ?? 15_000) / periodMs));
  const timers: LiveTimers = options.timers ?? REAL_INTERVAL_TIMERS;
  const clients = new Set<Client>();
  let last = new Map<string, FleetRow>();
  let lastDecision = 0;
  let timer: unknown;
  let ticks = 0;

  const stop = () => {
    if (timer !== undefined) timers.clearInterval(timer);
    timer = undefined;
  };
  const counts = (): StateCounts => countStates(last.values());

  const send = (client: Client, text: string | Buffer) => {
    if (client.res.writableLength > maxBuffered) client.behind = true;
    else client.res.write(text);
  };

  /** A client behind that has drained starts again from a snapshot. True while it is (or was just) behind. */
  const catchUp = (client: Client): boolean => {
    if (!client.behind) return false;
    if (client.res.writableLength === 0) {
      client.behind = false;
      client.res.write(snapshot(client));
    }
    return true;
  };

  function snapshot(client: Client): string {
    const whole = client.node === undefined;
    const one = whole ? undefined : last.get(client.node as string);
    return event("snapshot", {
      t: now(),
      counts: counts(),
      rows: whole ? [...last.values()] : one === undefined ? [] : [one],
      decisions: whole ? source.decisions(0, SNAPSHOT_DECISIONS) : [],
      summary: whole ? source.summary() : null,
    });
  }

  function refresh(): void {
    last = source.rows(now());
    lastDecision = source.decisions(0, 1).at(-1)?.id ?? 0;
  }

  let ticking = false;

  async function tick(): Promise<void> {
    if (clients.size === 0 || ticking) return;
    ticking = true;
    try {
      const rows = source.rowsInSlices ? await runSliced(source.rowsInSlices(now())) : source.rows(now());
      const delta = diffRows(last, rows);
      const decisions = source.decisions(lastDecision, DELTA_DECISIONS);
      const before = last;
      last = rows;
      if (decisions.length > 0) lastDecision = decisions.at(-1)?.id ?? lastDecision;
      ticks++;
      const changed = delta.upsert.length > 0 || delta.remove.length > 0 || decisions.length > 0;
      // Serialised and encoded once, a slice of rows at a time, the same bytes written to every page.
      let whole: Buffer | undefined;
      if (changed && [...clients].some((c) => c.node === undefined)) {
        const meta = JSON.stringify({
          t: now(),
          counts: counts(),
          remove: delta.remove,
          decisions,
          summary: decisions.length > 0 ? source.summary() : undefined,
        });
        const parts: string[] = [];
        for (let i = 0; i < delta.upsert.length; i += SERIALISE_SLICE_ROWS) {
          if (i > 0) await nextTurn();
          const slice = delta.upsert
            .slice(i, i + SERIALISE_SLICE_ROWS)
            .map((row) => slim(row, before.get(row.id)));
          parts.push(JSON.stringify(slice).slice(1, -1));
        }
        whole = Buffer.from(`event: delta\ndata: ${meta.slice(0, -1)},"upsert":[${parts.join(",")}]}\n\n`);
      }
      for (const c of [...clients]) {
        if (catchUp(c)) continue;
        if (!changed) {
          if (ticks % heartbeatEvery === 0) send(c, ": keep-alive\n\n");
          continue;
        }
        if (c.node === undefined) {
          if (whole !== undefined) send(c, whole);
          continue;
        }
        const mine = delta.upsert.filter((r) => r.id === c.node);
        const gone = delta.remove.filter((id) => id === c.node);
        if (mine.length > 0 || gone.length > 0)
          send(c, event("delta", { t: now(), upsert: mine, remove: gone, decisions: [] }));
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      ticking = false;
    }
  }

  return {
    attach(res, filter = {}) {
      if (clients.size === 0) refresh();
      const client: Client = { res, node: filter.node, behind: false };
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.on("close", () => {
        if (clients.delete(client) && clients.size === 0) stop();
      });
      clients.add(client);
      res.write(`retry: 2000\n${snapshot(client)}`);
      timer ??= timers.setInterval(() => void tick(), periodMs);
    },
    clients: () => clients.size,
    tick,
    close() {
      stop();
      for (const c of [...clients]) c.res.end();
      clients.clear();
    },
  };
}

/**
 * A changed row without the fields that did not change and rarely do (labels, host, Kubernetes node): the
 * page keeps them from the row it has. Most deltas are new samples, and labels are most of a row's bytes.
 */
export function slim(row: FleetRow, old: FleetRow | undefined): Partial<FleetRow> & { id: string } {
  if (old === undefined) return row;
  const { labels, host, k8s, ...rest } = row;
  return {
    ...rest,
    ...(labels === old.labels || sameLabels(labels, old.labels) ? {} : { labels }),
    ...(host === old.host ? {} : { host }),
    ...(k8s === old.k8s ? {} : { k8s }),
  };
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
