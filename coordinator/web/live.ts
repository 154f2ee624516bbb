// Server-Sent Events for the web view: each page gets a snapshot when it connects, then at most one
// delta a second (rows that changed, ids gone, new decisions), computed once per tick for all pages. The
// tick runs only while a page is connected. A page that cannot keep up is dropped (its EventSource
// reconnects and starts again from a snapshot) rather than buffered without bound.
import type { ServerResponse } from "node:http";
import { countStates, diffRows, type FleetRow, type StateCounts } from "./rows.ts";
import type { DecisionView, SummaryView } from "./views.ts";

export interface LiveSource {
  rows(now: number): Map<string, FleetRow>;
  /** Decisions with an id above `afterId`, oldest first (at most `limit`, the newest ones). */
  decisions(afterId: number, limit: number): DecisionView[];
  summary(): SummaryView | null;
}

export interface LiveTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface LiveOptions {
  source: LiveSource;
  now: () => number;
  periodMs?: number;
  /** Bytes a page may have unsent before it is dropped. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  timers?: LiveTimers;
  onError?: (error: unknown) => void;
}

export interface LiveHub {
  /** Streams to `res` until it closes; `node` limits rows to that node. */
  attach(res: ServerResponse, filter?: { node?: string }): void;
  clients(): number;
  /** One tick now (tests drive the hub with this). */
  tick(): void;
  close(): void;
}

interface Client {
  res: ServerResponse;
  node?: string;
}

const SNAPSHOT_DECISIONS = 200;
const DELTA_DECISIONS = 200;

export function createLiveHub(options: LiveOptions): LiveHub {
  const { source, now } = options;
  const periodMs = options.periodMs ?? 1000;
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const heartbeatEvery = Math.max(1, Math.round((options.heartbeatMs ?? 15_000) / periodMs));
  const timers: LiveTimers = options.timers ?? {
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  };
  const clients = new Set<Client>();
  let last = new Map<string, FleetRow>();
  let lastDecision = 0;
  let timer: unknown;
  let ticks = 0;

  const send = (client: Client, text: string) => {
    if (client.res.writableLength > maxBuffered) {
      drop(client);
      return;
    }
    client.res.write(text);
  };
  const drop = (client: Client) => {
    clients.delete(client);
    client.res.end();
    if (clients.size === 0) stop();
  };
  const stop = () => {
    if (timer !== undefined) timers.clearInterval(timer);
    timer = undefined;
  };
  const counts = (): StateCounts => countStates(last.values());

  function refresh(): void {
    last = source.rows(now());
    const recent = source.decisions(0, 1);
    lastDecision = recent.at(-1)?.id ?? 0;
  }

  function tick(): void {
    if (clients.size === 0) return;
    try {
      const rows = source.rows(now());
      const delta = diffRows(last, rows);
      const decisions = source.decisions(lastDecision, DELTA_DECISIONS);
      last = rows;
      if (decisions.length > 0) lastDecision = decisions.at(-1)?.id ?? lastDecision;
      ticks++;
      const changed = delta.upsert.length > 0 || delta.remove.length > 0 || decisions.length > 0;
      if (!changed) {
        if (ticks % heartbeatEvery === 0) for (const c of [...clients]) send(c, ": keep-alive\n\n");
        return;
      }
      const whole = event("delta", {
        t: now(),
        counts: counts(),
        upsert: delta.upsert,
        remove: delta.remove,
        decisions,
        summary: decisions.length > 0 ? source.summary() : undefined,
      });
      for (const c of [...clients]) {
        if (c.node === undefined) {
          send(c, whole);
          continue;
        }
        const mine = delta.upsert.filter((r) => r.id === c.node);
        const gone = delta.remove.filter((id) => id === c.node);
        if (mine.length > 0 || gone.length > 0)
          send(c, event("delta", { t: now(), upsert: mine, remove: gone, decisions: [] }));
      }
    } catch (error) {
      options.onError?.(error);
    }
  }

  return {
    attach(res, filter = {}) {
      if (clients.size === 0) refresh();
      const client: Client = { res, node: filter.node };
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.on("close", () => {
        if (clients.delete(client) && clients.size === 0) stop();
      });
      clients.add(client);
      const rows =
        client.node === undefined
          ? [...last.values()]
          : [last.get(client.node)].filter((r) => r !== undefined);
      const summary = client.node === undefined ? source.summary() : null;
      send(
        client,
        `retry: 2000\n${event("snapshot", {
          t: now(),
          counts: counts(),
          rows,
          decisions: client.node === undefined ? source.decisions(0, SNAPSHOT_DECISIONS) : [],
          summary,
        })}`,
      );
      timer ??= timers.setInterval(tick, periodMs);
    },
    clients: () => clients.size,
    tick,
    close() {
      stop();
      for (const c of [...clients]) drop(c);
    },
  };
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
