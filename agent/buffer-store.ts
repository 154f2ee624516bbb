// The agent's on-disk telemetry buffer: one small node:sqlite table in the state directory, in WAL mode,
// every statement prepared once. A row is a shaped sample (protobuf bytes without session/seq) that is not
// yet known to be delivered. It gets its wire identity (session, seq) the first time it is published and
// keeps it from then on, so a repeat is an exact duplicate the coordinator drops. A PUBACK marks it
// acknowledged; acknowledged rows stay for a short redelivery window, then go. Synchronous on purpose:
// one small write per sample, on a loop that runs every few seconds.
import { renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { FleetError } from "../common/errors.ts";
import { makeDirSync } from "../common/make-dir.ts";
import { sessionFileName } from "./session-store.ts";

/**
 * node:sqlite, loaded when the first buffer opens rather than with this module: an agent that never buffers
 * does not pay for it, and on Node.js 20 (no node:sqlite; the newest Node for 32-bit ARM) the agent still
 * runs, without a buffer (see `sqliteMissing`).
 */
function loadSqlite(): typeof import("node:sqlite") {
  return createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
}

/** Why there can be no buffer in this Node.js (no node:sqlite), or undefined when there can. */
export function sqliteMissing(): string | undefined {
  try {
    loadSqlite();
    return undefined;
  } catch (error) {
    return `node:sqlite is not available in Node.js ${process.version} (${(error as Error).message})`;
  }
}

const SCHEMA_VERSION = 1;

export type BufferErrorCode = "K3SF_ERR_BUFFER_STORE" | "K3SF_ERR_BUFFER_UNAVAILABLE";

export class BufferError extends FleetError<BufferErrorCode> {}

export interface StoredSample {
  id: number;
  /** Wall-clock ms when the sample was taken (the age bound counts from here). */
  createdMs: number;
  /** Identity on the wire, set on first publish; undefined while never sent. */
  session: bigint | undefined;
  seq: bigint | undefined;
  /** Encoded `NodeTelemetry` with session and seq unset. */
  body: Uint8Array;
}

export interface BufferStore {
  /** File path, or ":memory:". */
  readonly path: string;
  /** Samples not yet acknowledged. */
  readonly pending: number;
  /** Adds a sample; returns its id (ids only grow, even across restarts). */
  append(createdMs: number, body: Uint8Array): number;
  /** Gives a sample its wire identity (first publish). */
  stamp(id: number, session: bigint, seq: bigint): void;
  /**
   * Up to `limit` pending samples in replay order: those already sent once (by session, seq) first, then
   * never-sent ones oldest first. Ids in `skip` (in flight) are passed over.
   */
  take(limit: number, skip?: ReadonlySet<number>): StoredSample[];
  /** A PUBACK came: the row is kept, acknowledged at `atMs`, when `keep`; else deleted. */
  acknowledge(id: number, atMs: number, keep: boolean): void;
  /** Rows acknowledged at or after `sinceMs` become pending again; returns how many. */
  reopen(sinceMs: number): number;
  /** Drops pending rows beyond the bounds (oldest first) and acknowledged rows older than `ackedBeforeMs`. */
  enforce(bounds: { maxSamples: number; createdAfterMs: number; ackedBeforeMs: number }): {
    byCount: number;
    byAge: number;
  };
  close(): void;
  /** How the file is doing, for stores that can run without one (buffer-resilient.ts). */
  health?(): BufferHealth;
}

export interface BufferHealth {
  /** False while the agent runs without a buffer (it could not be opened: full disk, unwritable dir). */
  available: boolean;
  /** Damaged files moved aside (`*.corrupt-<ms>`) while running. */
  movedAside: number;
  /** Write-ahead logs found damaged at open (SQLite drops their torn frames; the newest samples may be lost). */
  walDamaged: number;
}

/** `<stateDir>/<nodeId>.buffer.db` (long ids shortened as for the session file). */
export function bufferPath(stateDir: string, nodeId: string): string {
  return join(stateDir, sessionFileName(nodeId).replace(/\.session$/, ".buffer.db"));
}

export interface OpenBufferOptions {
  /** File path, or ":memory:" (tests). Parent directories are created. */
  path: string;
  /** Wall clock, for naming a corrupt file moved aside. */
  now?: () => number;
  /** Told when a corrupt file was moved aside and a new one started. */
  onCorrupt?: (movedTo: string, error: unknown) => void;
}

/** Opens (creating when missing) the buffer. A file that is not a database is moved aside, not deleted. */
export function openBufferStore(options: OpenBufferOptions): BufferStore {
  const { path } = options;
  try {
    if (path !== ":memory:") makeDirSync(dirname(path));
    return new SqliteBufferStore(path);
  } catch (error) {
    if (path === ":memory:" || !isCorrupt(error)) {
      throw new BufferError("K3SF_ERR_BUFFER_STORE", `cannot open the telemetry buffer ${path}`, {
        cause: error,
      });
    }
    const aside = `${path}.corrupt-${(options.now ?? Date.now)()}`;
    try {
      renameSync(path, aside);
      options.onCorrupt?.(aside, error);
      return new SqliteBufferStore(path);
    } catch (again) {
      throw new BufferError("K3SF_ERR_BUFFER_STORE", `cannot replace the corrupt telemetry buffer ${path}`, {
        cause: again,
      });
    }
  }
}

/** The error says the database file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB). */
export function isCorrupt(error: unknown): boolean {
  const text =
    error instanceof Error ? `${error.message} ${(error as { errstr?: string }).errstr ?? ""}` : "";
  return /not a database|malformed|corrupt/i.test(text);
}

type Row = { id: bigint; created_ms: bigint; session: bigint | null; seq: bigint | null; body: Uint8Array };

class SqliteBufferStore implements BufferStore {
  readonly path: string;
  #db: DatabaseSync;
  #pending: number;
  #insert: StatementSync;
  #stamp: StatementSync;
  #sent: StatementSync;
  #unsent: StatementSync;
  #ack: StatementSync;
  #delete: StatementSync;
  #reopen: StatementSync;
  #dropAcked: StatementSync;
  #dropOld: StatementSync;
  #dropOldest: StatementSync;

  constructor(path: string) {
    this.path = path;
    const db = new (loadSqlite().DatabaseSync)(path);
    this.#db = db;
    try {
      // A small page cache (256 KiB, not SQLite's 2 MiB): the buffer is read only to replay after an outage.
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 2000; PRAGMA cache_size = -256;",
      );
      const version = Number(
        (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      );
      if (version > SCHEMA_VERSION) {
        throw new Error(`buffer schema version ${version} is newer than this agent's ${SCHEMA_VERSION}`);
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS samples (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          created_ms INTEGER NOT NULL,
          session INTEGER,
          seq INTEGER,
          acked_ms INTEGER,
          body BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS samples_unsent ON samples (id) WHERE acked_ms IS NULL AND session IS NULL;
        CREATE INDEX IF NOT EXISTS samples_sent ON samples (session, seq) WHERE acked_ms IS NULL AND session IS NOT NULL;
        CREATE INDEX IF NOT EXISTS samples_age ON samples (created_ms) WHERE acked_ms IS NULL;
        CREATE INDEX IF NOT EXISTS samples_acked ON samples (acked_ms) WHERE acked_ms IS NOT NULL;
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
      const columns = "id, created_ms, session, seq, body";
      this.#insert = db.prepare("INSERT INTO samples (created_ms, body) VALUES (?, ?)");
      this.#stamp = db.prepare("UPDATE samples SET session = ?, seq = ? WHERE id = ?");
      this.#sent = db.prepare(
        `SELECT ${columns} FROM samples WHERE acked_ms IS NULL AND session IS NOT NULL ORDER BY session, seq LIMIT ?`,
      );
      this.#unsent = db.prepare(
        `SELECT ${columns} FROM samples WHERE acked_ms IS NULL AND session IS NULL ORDER BY id LIMIT ?`,
      );
      for (const statement of [this.#sent, this.#unsent]) statement.setReadBigInts(true);
      this.#ack = db.prepare("UPDATE samples SET acked_ms = ? WHERE id = ? AND acked_ms IS NULL");
      this.#delete = db.prepare("DELETE FROM samples WHERE id = ? AND acked_ms IS NULL");
      this.#reopen = db.prepare("UPDATE samples SET acked_ms = NULL WHERE acked_ms >= ?");
      this.#dropAcked = db.prepare("DELETE FROM samples WHERE acked_ms < ?");
      this.#dropOld = db.prepare("DELETE FROM samples WHERE acked_ms IS NULL AND created_ms < ?");
      this.#dropOldest = db.prepare(
        "DELETE FROM samples WHERE id IN (SELECT id FROM samples WHERE acked_ms IS NULL ORDER BY id LIMIT ?)",
      );
      this.#pending = Number(
        (db.prepare("SELECT count(*) AS n FROM samples WHERE acked_ms IS NULL").get() as { n: number }).n,
      );
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get pending(): number {
    return this.#pending;
  }

  append(createdMs: number, body: Uint8Array): number {
    const { lastInsertRowid } = this.#insert.run(createdMs, body);
    this.#pending += 1;
    return Number(lastInsertRowid);
  }

  stamp(id: number, session: bigint, seq: bigint): void {
    this.#stamp.run(session, seq, id);
  }

  take(limit: number, skip: ReadonlySet<number> = new Set()): StoredSample[] {
    const out: StoredSample[] = [];
    if (limit <= 0) return out;
    // Over-fetch by the skipped count so `limit` rows remain after passing over the ones in flight.
    for (const statement of [this.#sent, this.#unsent]) {
      for (const row of statement.all(limit - out.length + skip.size) as Row[]) {
        const id = Number(row.id);
        if (skip.has(id)) continue;
        out.push({
          id,
          createdMs: Number(row.created_ms),
          session: row.session ?? undefined,
          seq: row.seq ?? undefined,
          body: row.body,
        });
        if (out.length === limit) return out;
      }
    }
    return out;
  }

  acknowledge(id: number, atMs: number, keep: boolean): void {
    const { changes } = keep ? this.#ack.run(atMs, id) : this.#delete.run(id);
    this.#pending -= Number(changes);
  }

  reopen(sinceMs: number): number {
    const changes = Number(this.#reopen.run(sinceMs).changes);
    this.#pending += changes;
    return changes;
  }

  enforce(bounds: { maxSamples: number; createdAfterMs: number; ackedBeforeMs: number }) {
    this.#dropAcked.run(bounds.ackedBeforeMs);
    const byAge = Number(this.#dropOld.run(bounds.createdAfterMs).changes);
    this.#pending -= byAge;
    let byCount = 0;
    if (this.#pending > bounds.maxSamples) {
      byCount = Number(this.#dropOldest.run(this.#pending - bounds.maxSamples).changes);
      this.#pending -= byCount;
    }
    return { byCount, byAge };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
