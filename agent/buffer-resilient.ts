// The telemetry buffer as the agent uses it: a node whose disk is full, or whose buffer file went bad, keeps
// publishing. The buffer that cannot be opened (full disk, unwritable state dir) is retried every `retryMs`
// while the agent runs without it (samples taken while offline are dropped, counted, and the
// `available` health says so); a file found damaged while running is moved aside once and a new one
// started, instead of failing every sample; a damaged write-ahead log is reported when the file is opened.
// Row ids stay unique across a swap (the new file's ids are shifted past the old one's), so a PUBACK for a
// row of the old file never acknowledges a row of the new one.
import { closeSync, openSync, readSync, renameSync, statSync } from "node:fs";
import type { Logger } from "pino";
import {
  BufferError,
  type BufferHealth,
  type BufferStore,
  isCorrupt,
  type OpenBufferOptions,
  openBufferStore,
  type StoredSample,
} from "./buffer-store.ts";

export interface ResilientBufferOptions {
  path: string;
  logger: Logger;
  /** Wall clock, for naming files moved aside. */
  now: () => number;
  /** Monotonic ms, for the retry interval. */
  monotonic: () => number;
  /** How often a buffer that could not be opened is tried again; default 30 s. */
  retryMs?: number;
  /** Opens the file (tests inject failures); default openBufferStore. */
  open?: (options: OpenBufferOptions) => BufferStore;
}

export const DEFAULT_BUFFER_RETRY_MS = 30_000;

const EMPTY_ENFORCE = { byCount: 0, byAge: 0 };

export function openResilientBuffer(options: ResilientBufferOptions): BufferStore {
  const { path, logger: log, now, monotonic } = options;
  const retryMs = options.retryMs ?? DEFAULT_BUFFER_RETRY_MS;
  const open = options.open ?? openBufferStore;
  let inner: BufferStore | undefined;
  /** Ids of the current file are shifted by this, past every id handed out before. */
  let offset = 0;
  let highest = 0;
  let retryAt = 0;
  let closed = false;
  let unavailableReported = false;
  const health: BufferHealth = { available: false, movedAside: 0, walDamaged: 0 };

  function tryOpen(): void {
    const wal = walProblem(`${path}-wal`);
    try {
      inner = open({
        path,
        now,
        onCorrupt: (movedTo, error) =>
          log.error({ err: error, movedTo }, "telemetry buffer was damaged: moved aside, starting a new one"),
      });
    } catch (error) {
      retryAt = monotonic() + retryMs;
      if (!unavailableReported) {
        log.error(
          { err: error, path, retryInMs: retryMs },
          "telemetry buffer unavailable: running without it (samples taken while offline are dropped)",
        );
        unavailableReported = true;
      } else log.debug({ err: error, path }, "telemetry buffer still unavailable");
      return;
    }
    if (wal) {
      health.walDamaged += 1;
      log.error(
        { path: `${path}-wal`, problem: wal },
        "telemetry buffer's write-ahead log is damaged: its torn frames are dropped, the newest samples may be lost",
      );
    }
    if (unavailableReported) log.info({ path, pending: inner.pending }, "telemetry buffer available again");
    unavailableReported = false;
    offset = highest;
  }

  /** The open file, opening it again when its retry time has come. */
  function current(): BufferStore | undefined {
    if (inner === undefined && !closed && monotonic() >= retryAt) tryOpen();
    return inner;
  }

  /** A damaged file found while running: moved aside once, a new one started (or none, retried later). */
  function replaceCorrupt(error: unknown): void {
    const bad = inner;
    inner = undefined;
    try {
      bad?.close();
    } catch {
      // closing a damaged database may fail too; the file is moved aside either way
    }
    const aside = `${path}.corrupt-${now()}`;
    try {
      renameSync(path, aside);
      for (const suffix of ["-wal", "-shm"]) moveIfPresent(`${path}${suffix}`, `${aside}${suffix}`);
      health.movedAside += 1;
      log.error(
        { err: error, movedTo: aside },
        "telemetry buffer was damaged: moved aside, starting a new one",
      );
    } catch (renameError) {
      // Reopening the same damaged file would fail every sample: run without it until the next retry.
      log.error({ err: renameError, path }, "damaged telemetry buffer could not be moved aside");
      retryAt = monotonic() + retryMs;
      return;
    }
    retryAt = 0;
    tryOpen();
  }

  /** Runs `operation` on the open file; a damaged file is replaced and the error passed on. */
  function use<T>(operation: (store: BufferStore) => T, without: () => T): T {
    const store = current();
    if (store === undefined) return without();
    try {
      return operation(store);
    } catch (error) {
      if (isCorrupt(error) && store === inner) replaceCorrupt(error);
      throw error;
    }
  }

  const seen = (id: number) => {
    if (id > highest) highest = id;
    return id;
  };

  tryOpen();
  return {
    path,
    get pending() {
      return current()?.pending ?? 0;
    },
    append(createdMs, body) {
      return use(
        (store) => seen(store.append(createdMs, body) + offset),
        () => {
          throw new BufferError("K3SF_ERR_BUFFER_UNAVAILABLE", `telemetry buffer ${path} is not open`);
        },
      );
    },
    stamp(id, session, seq) {
      if (id <= offset) return;
      use(
        (store) => store.stamp(id - offset, session, seq),
        () => undefined,
      );
    },
    take(limit, skip) {
      const own = skip && offset > 0 ? new Set([...skip].map((id) => id - offset)) : skip;
      return use(
        (store) => store.take(limit, own).map((row): StoredSample => ({ ...row, id: seen(row.id + offset) })),
        () => [],
      );
    },
    acknowledge(id, atMs, keep) {
      if (id <= offset) return;
      use(
        (store) => store.acknowledge(id - offset, atMs, keep),
        () => undefined,
      );
    },
    reopen: (sinceMs) =>
      use(
        (store) => store.reopen(sinceMs),
        () => 0,
      ),
    enforce: (bounds) =>
      use(
        (store) => store.enforce(bounds),
        () => EMPTY_ENFORCE,
      ),
    close() {
      closed = true;
      inner?.close();
      inner = undefined;
    },
    health: () => ({ ...health, available: current() !== undefined }),
  };
}

function moveIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Why the write-ahead log at `walPath` is damaged, or undefined when it is absent, empty or well-formed:
 * its header's magic number (SQLite's WAL format) and whether its length is a whole number of frames.
 */
export function walProblem(walPath: string): string | undefined {
  let size: number;
  try {
    size = statSync(walPath).size;
  } catch {
    return undefined;
  }
  if (size === 0) return undefined;
  if (size < 32) return `${size} bytes: shorter than its 32-byte header`;
  const header = Buffer.alloc(32);
  try {
    const fd = openSync(walPath, "r");
    try {
      readSync(fd, header, 0, 32, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // unreadable here; SQLite will say so when it opens the database
  }
  const magic = header.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return `bad magic number 0x${magic.toString(16)}`;
  const pageSize = header.readUInt32BE(8);
  const frame = (pageSize === 1 ? 65536 : pageSize) + 24;
  if ((size - 32) % frame !== 0) return `${size} bytes: ends in a torn frame (frames of ${frame} bytes)`;
  return undefined;
}
