// Durable scheduling state in node:sqlite: request ids with their decision (so a request published twice,
// or again after a restart, gets the same decision and never a second pod), and the decision records the
// analytics summarise. One small file; writes are synchronous and tiny (WAL, synchronous=NORMAL).
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { makeDirSync } from "../../common/make-dir.ts";
import { decode, encode, type ScheduleDecision } from "../../proto/index.ts";
import type { DecisionRecord, DecisionSource, DecisionStatusName } from "./analytics.ts";
import { SchedulingError } from "./errors.ts";
import { parseRejectionSummary } from "./rejections.ts";

/**
 * "creating": the pod is being (or may have been) created and bound; `decision` is the planned one.
 * "done": `decision` is final and is what every repeat of the request gets.
 */
export type RequestState = "creating" | "done";

export interface StoredRequest {
  readonly requestId: string;
  readonly state: RequestState;
  readonly namespace: string;
  readonly podName: string;
  readonly decision: ScheduleDecision | undefined;
  readonly updatedAt: number;
}

export interface DecisionStore {
  request(requestId: string): StoredRequest | undefined;
  /** Records the intent before the pod is created: a restart then finds (and finishes) that pod. */
  begin(requestId: string, namespace: string, podName: string, planned: ScheduleDecision, now: number): void;
  finish(
    requestId: string,
    namespace: string,
    podName: string,
    decision: ScheduleDecision,
    now: number,
  ): void;
  /** Who first asked with `requestId` (the requester of its first decision), if known. */
  ownerOf(requestId: string): string | undefined;
  /** Records `requester` as the owner of `requestId` unless it already has one. */
  own(requestId: string, requester: string, now: number): void;
  /** Drops a request id (nothing was created for it). */
  forget(requestId: string): void;
  /** Deletes request ids (and their owners) last touched before `before`; returns how many. */
  prune(before: number): number;
  /** Deletes decision records older than `before`; returns how many. */
  pruneRecords(before: number): number;
  /** Saves a record; its reasons are cut to MAX_STORED_REASONS of MAX_REASON_CHARS each. */
  saveRecord(record: DecisionRecord): void;
  markRunning(id: number): void;
  /** The newest `limit` records, oldest first. */
  loadRecords(limit: number): DecisionRecord[];
  close(): void;
}

// 2: decisions gained runner_up, message, rejections (added to a version 1 file on open; see migrate).
const SCHEMA_VERSION = 2;

/** A stored decision's size bound: at 500 nodes an unschedulable decision's reasons took ~38 KB. */
export const MAX_STORED_REASONS = 32;
export const MAX_REASON_CHARS = 512;

/** `reasons` cut to the bound, the last kept entry saying how many were left out. */
export function boundedReasons(reasons: readonly string[]): string[] {
  const cut = (r: string) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS - 1)}…` : r);
  if (reasons.length <= MAX_STORED_REASONS) return reasons.map(cut);
  const kept = reasons.slice(0, MAX_STORED_REASONS - 1).map(cut);
  return [...kept, `… and ${reasons.length - kept.length} more`];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  request_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('creating', 'done')),
  namespace TEXT NOT NULL,
  pod_name TEXT NOT NULL,
  decision BLOB,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS requests_updated_at ON requests (updated_at);
CREATE TABLE IF NOT EXISTS request_owners (
  request_id TEXT PRIMARY KEY,
  requester TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  pod TEXT NOT NULL,
  request_id TEXT NOT NULL,
  status TEXT NOT NULL,
  node TEXT NOT NULL,
  score REAL NOT NULL,
  scores TEXT NOT NULL,
  reasons TEXT NOT NULL,
  latency_ms REAL NOT NULL,
  advisory INTEGER NOT NULL,
  dry_run INTEGER NOT NULL,
  running INTEGER NOT NULL,
  runner_up TEXT,
  message TEXT NOT NULL DEFAULT '',
  rejections TEXT
) STRICT;
`;

/** Columns added after version 1, as ALTER TABLE clauses: a file written by an older k3s-fleet gains them. */
const ADDED_DECISION_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ["runner_up", "runner_up TEXT"],
  ["message", "message TEXT NOT NULL DEFAULT ''"],
  ["rejections", "rejections TEXT"],
];

/** Adds the columns an older file lacks; its rows keep their data (the new columns read as none). */
function migrate(db: DatabaseSync): void {
  const have = new Set(
    (db.prepare("PRAGMA table_info(decisions)").all() as Array<{ name: string }>).map((c) => c.name),
  );
  for (const [name, clause] of ADDED_DECISION_COLUMNS) {
    if (!have.has(name)) db.exec(`ALTER TABLE decisions ADD COLUMN ${clause}`);
  }
}

interface RequestRow {
  request_id: string;
  state: RequestState;
  namespace: string;
  pod_name: string;
  decision: Uint8Array | null;
  updated_at: number;
}

interface RecordRow {
  id: number;
  at: number;
  source: string;
  pod: string;
  request_id: string;
  status: string;
  node: string;
  score: number;
  scores: string;
  reasons: string;
  latency_ms: number;
  advisory: number;
  dry_run: number;
  running: number;
  runner_up: string | null;
  message: string;
  rejections: string | null;
}

export interface StoreOptions {
  /** File path, or ":memory:". */
  path: string;
  /** Decision records kept; older ones are deleted as new ones arrive. */
  keepRecords: number;
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function openDecisionStore(options: StoreOptions): DecisionStore {
  let db: DatabaseSync;
  try {
    if (options.path !== ":memory:") makeDirSync(dirname(options.path));
    db = new DatabaseSync(options.path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000;");
    const { user_version: version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
    if (version > SCHEMA_VERSION) {
      throw new Error(`written by a newer k3s-fleet (schema ${version}, this one knows ${SCHEMA_VERSION})`);
    }
    db.exec("BEGIN");
    db.exec(SCHEMA);
    migrate(db);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (cause) {
    throw new SchedulingError("K3SF_ERR_SCHEDULING_STORE", `cannot open scheduling store ${options.path}`, {
      cause,
    });
  }
  const keep = Math.max(1, Math.floor(options.keepRecords));
  const q = {
    get: db.prepare("SELECT * FROM requests WHERE request_id = ?"),
    upsert: db.prepare(
      `INSERT INTO requests (request_id, state, namespace, pod_name, decision, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (request_id) DO UPDATE SET state = excluded.state, namespace = excluded.namespace,
         pod_name = excluded.pod_name, decision = excluded.decision, updated_at = excluded.updated_at`,
    ),
    forget: db.prepare("DELETE FROM requests WHERE request_id = ?"),
    prune: db.prepare("DELETE FROM requests WHERE updated_at < ?"),
    owner: db.prepare("SELECT requester FROM request_owners WHERE request_id = ?"),
    own: db.prepare("INSERT OR IGNORE INTO request_owners (request_id, requester, at) VALUES (?, ?, ?)"),
    pruneOwners: db.prepare("DELETE FROM request_owners WHERE at < ?"),
    insertRecord: db.prepare(
      `INSERT OR REPLACE INTO decisions (id, at, source, pod, request_id, status, node, score, scores, reasons,
         latency_ms, advisory, dry_run, running, runner_up, message, rejections)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    trimRecords: db.prepare("DELETE FROM decisions WHERE id <= ?"),
    pruneRecords: db.prepare("DELETE FROM decisions WHERE at < ?"),
    markRunning: db.prepare("UPDATE decisions SET running = 1 WHERE id = ?"),
    loadRecords: db.prepare("SELECT * FROM (SELECT * FROM decisions ORDER BY id DESC LIMIT ?) ORDER BY id"),
  } satisfies Record<string, StatementSync>;

  const guard = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (cause) {
      throw new SchedulingError("K3SF_ERR_SCHEDULING_STORE", `scheduling store: cannot ${what}`, { cause });
    }
  };
  const put = (id: string, state: RequestState, ns: string, name: string, d: ScheduleDecision, now: number) =>
    guard("write a request", () => q.upsert.run(id, state, ns, name, encode("scheduleDecision", d), now));

  return {
    request(requestId) {
      const row = guard("read a request", () => q.get.get(requestId)) as RequestRow | undefined;
      if (row === undefined) return undefined;
      const decoded = row.decision === null ? undefined : decode("scheduleDecision", row.decision);
      return {
        requestId: row.request_id,
        state: row.state,
        namespace: row.namespace,
        podName: row.pod_name,
        decision: decoded?.ok ? decoded.message : undefined,
        updatedAt: row.updated_at,
      };
    },
    begin: (id, ns, name, planned, now) => put(id, "creating", ns, name, planned, now),
    finish: (id, ns, name, decision, now) => put(id, "done", ns, name, decision, now),
    forget(requestId) {
      guard("delete a request", () => q.forget.run(requestId));
    },
    ownerOf(requestId) {
      const row = guard("read a request's owner", () => q.owner.get(requestId)) as
        | { requester: string }
        | undefined;
      return row?.requester;
    },
    own(requestId, requester, now) {
      guard("write a request's owner", () => q.own.run(requestId, requester, now));
    },
    prune: (before) =>
      guard("prune requests", () => {
        q.pruneOwners.run(before);
        return Number(q.prune.run(before).changes);
      }),
    pruneRecords: (before) =>
      Number(guard("prune decision records", () => q.pruneRecords.run(before)).changes),
    saveRecord(r) {
      guard("save a decision record", () => {
        q.insertRecord.run(
          r.id,
          r.at,
          r.source,
          r.pod,
          r.requestId,
          r.status,
          r.node,
          r.score,
          JSON.stringify(r.scores),
          JSON.stringify(boundedReasons(r.reasons)),
          r.latencyMs,
          r.advisory ? 1 : 0,
          r.dryRun ? 1 : 0,
          r.running ? 1 : 0,
          r.runnerUp === undefined ? null : JSON.stringify(r.runnerUp),
          r.message ?? "",
          r.rejections === undefined ? null : JSON.stringify(r.rejections),
        );
        if (r.id % 256 === 0) q.trimRecords.run(r.id - keep);
      });
    },
    markRunning(id) {
      guard("update a decision record", () => q.markRunning.run(id));
    },
    loadRecords(limit) {
      const rows = guard("load decision records", () => q.loadRecords.all(limit)) as unknown as RecordRow[];
      return rows.map((row) => ({
        id: row.id,
        at: row.at,
        source: row.source as DecisionSource,
        pod: row.pod,
        requestId: row.request_id,
        status: row.status as DecisionStatusName,
        node: row.node,
        score: row.score,
        scores: JSON.parse(row.scores) as DecisionRecord["scores"],
        reasons: JSON.parse(row.reasons) as string[],
        latencyMs: row.latency_ms,
        advisory: row.advisory === 1,
        dryRun: row.dry_run === 1,
        running: row.running === 1,
        ...(row.runner_up === null
          ? {}
          : { runnerUp: JSON.parse(row.runner_up) as DecisionRecord["runnerUp"] }),
        ...(row.message === "" ? {} : { message: row.message }),
        ...optional("rejections", parseRejectionSummary(row.rejections)),
      }));
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
