// The coordinator's read-only web view: a page (Fleet, Node, Scheduling) served from ./public, a small
// JSON API under /api, and a live Server-Sent Events stream. Only GET/HEAD reach it (the HTTP server
// answers other methods), nothing here changes state, and every request passes `access` first.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { type SchedulingSummary, toJson } from "../../proto/index.ts";
import type { UsersTable } from "../broker/auth/users.ts";
import type { FleetHistory } from "../fleet/history.ts";
import { type FleetState, intervalOf } from "../fleet/state.ts";
import type { DecisionRecord } from "../placement/analytics.ts";
import { type Access, createAccess } from "./access.ts";
import { CONTENT_SECURITY_POLICY, createAssets } from "./assets.ts";
import { createLiveHub, type LiveHub, type LiveTimers } from "./live.ts";
import { countStates, FleetRowsBuilder, fleetRow, fleetRows } from "./rows.ts";
import { nodeSeries } from "./series.ts";
import { decisionsAfter, decisionView, type PodView, podsByNode, summaryView } from "./views.ts";

export interface PodLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export interface WebViewOptions {
  /** The HTTP listener's host: on loopback the view is open unless a token or users are configured. */
  host: string;
  /** Bearer token (or HTTP basic password) that opens the view. */
  token?: string;
  /** Users file accounts: viewer and coordinator roles may log in with HTTP basic. */
  users?: UsersTable;
  fleet: FleetState;
  history: FleetHistory;
  now: () => number;
  /** Read when asked: scheduling may be off, the cluster absent (standalone). */
  scheduling?: () => { records(): readonly DecisionRecord[]; summary(): SchedulingSummary } | undefined;
  cluster?: () => { pods(): readonly PodLike[] } | undefined;
  logger: Logger;
  /** Live update period; at most one delta per period. */
  periodMs?: number;
  timers?: LiveTimers;
}

export interface WebView {
  /** Answers `path` if it is the web view's (true), else leaves the response alone (false). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  readonly live: LiveHub;
  close(): void;
}

const NODE_PLACEMENTS = 50;
const API_DECISIONS = 500;

export function createWebView(options: WebViewOptions): WebView {
  const { fleet, history, now, logger } = options;
  const access: Access = createAccess({ host: options.host, token: options.token, users: options.users });
  const assets = createAssets();
  const builder = new FleetRowsBuilder();
  const clock = builder.clock;
  const pods = () => {
    const cluster = options.cluster?.();
    return cluster === undefined ? undefined : podsByNode(cluster.pods());
  };
  const scheduling = () => options.scheduling?.();
  const live = createLiveHub({
    now,
    periodMs: options.periodMs,
    timers: options.timers,
    onError: (err) => logger.error({ err }, "web view live update failed"),
    source: {
      rows: (at) => builder.build(fleet, at, pods()),
      rowsInSlices: (at) => builder.buildInSlices(fleet, at, pods()),
      decisions: (afterId, limit) => decisionsAfter(scheduling()?.records() ?? [], afterId, limit),
      summary: () => {
        const s = scheduling();
        return s === undefined ? null : summaryView(s.summary());
      },
    },
  });

  const json = (res: ServerResponse, status: number, body: unknown) =>
    res
      .writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
      .end(JSON.stringify(body));

  function nodeDetail(id: string) {
    const node = fleet.nodes.get(id);
    if (node === undefined) return undefined;
    const at = now();
    const row = fleetRow(fleet, node, at, clock, pods());
    const cluster = options.cluster?.();
    const podList: PodView[] = (cluster?.pods() ?? [])
      .filter((p) => p.spec?.nodeName === row.k8s)
      .map((p) => ({
        namespace: p.metadata?.namespace ?? "",
        name: p.metadata?.name ?? "",
        phase: p.status?.phase ?? "",
      }));
    const placements = (scheduling()?.records() ?? [])
      .filter((r) => r.node === row.k8s || r.node === id)
      .slice(-NODE_PLACEMENTS)
      .map(decisionView);
    return {
      row,
      birth: node.birth === undefined ? null : JSON.parse(toJson("birth", node.birth)),
      intervalMs: intervalOf(fleet, node),
      series: nodeSeries(history.get(id), at, intervalOf(fleet, node)),
      pods: cluster === undefined ? null : podList,
      placements,
    };
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const verdict = await access.check(req.headers.authorization, req.socket.remoteAddress);
    if (verdict === "forbidden") {
      res
        .writeHead(403, { "content-type": "text/plain" })
        .end("the web view needs http.token or broker.usersFile when http.listen is not loopback\n");
      return;
    }
    if (verdict === "unauthorized") {
      res
        .writeHead(401, {
          "content-type": "text/plain",
          "www-authenticate": 'Basic realm="k3s-fleet", charset="UTF-8"',
        })
        .end("unauthorized\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://view.invalid");
    if (path === "/api/events") {
      live.attach(res, { node: url.searchParams.get("node") ?? undefined });
      return;
    }
    if (path === "/api/fleet") {
      const rows = [...fleetRows(fleet, now(), clock, pods()).values()];
      json(res, 200, { t: now(), counts: countStates(rows), rows });
      return;
    }
    if (path === "/api/decisions") {
      const s = scheduling();
      json(res, 200, {
        decisions: decisionsAfter(s?.records() ?? [], 0, API_DECISIONS),
        summary: s === undefined ? null : summaryView(s.summary()),
      });
      return;
    }
    if (path.startsWith("/api/node/")) {
      const detail = nodeDetail(decodeId(path.slice("/api/node/".length)));
      if (detail === undefined) json(res, 404, { error: "no such node" });
      else json(res, 200, detail);
      return;
    }
    const asset = await assets.read(path);
    if (asset === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res
      .writeHead(200, {
        "content-type": asset.type,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "referrer-policy": "no-referrer",
      })
      .end(req.method === "HEAD" ? undefined : asset.body);
  }

  return {
    live,
    handle(req, res, path) {
      if (!(assets.has(path) || path.startsWith("/api/"))) return false;
      serve(req, res, path).catch((err: unknown) => {
        logger.error({ err, path }, "web view request failed");
        if (!res.headersSent) res.writeHead(500).end();
        else res.end();
      });
      return true;
    },
    close: () => live.close(),
  };
}

/** A percent-encoded node id; a malformed encoding names no node. */
function decodeId(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return "";
  }
}
