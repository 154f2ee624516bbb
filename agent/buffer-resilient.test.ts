import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { openResilientBuffer, walProblem } from "./buffer-resilient.ts";
import { type BufferStore, type OpenBufferOptions, openBufferStore } from "./buffer-store.ts";

const silent = pino({ level: "silent" });
const body = new Uint8Array([1, 2, 3]);
/** What Node's fs throws on a full disk. */
const enospc = () =>
  Object.assign(new Error("ENOSPC: no space left on device, open"), { code: "ENOSPC", errno: -28 });
/** What node:sqlite throws when a page turns out damaged. */
const malformed = () =>
  Object.assign(new Error("database disk image is malformed"), { code: "ERR_SQLITE_ERROR", errcode: 11 });

function setup(open: (options: OpenBufferOptions) => BufferStore = openBufferStore) {
  const dir = mkdtempSync(join(tmpdir(), "k3sf-resilient-"));
  let mono = 0;
  const buffer = openResilientBuffer({
    path: join(dir, "edge.buffer.db"),
    logger: silent,
    now: () => 1_000_000 + mono,
    monotonic: () => mono,
    retryMs: 1000,
    open,
  });
  return { dir, buffer, advance: (ms: number) => (mono += ms) };
}

describe("openResilientBuffer", () => {
  it("runs without the buffer while the disk is full, tries again every retryMs, and recovers", () => {
    let full = true;
    let attempts = 0;
    const { buffer, advance } = setup((options) => {
      attempts++;
      if (full) throw enospc();
      return openBufferStore(options);
    });
    expect(buffer.health?.()).toEqual({ available: false, movedAside: 0, walDamaged: 0 });
    expect(() => buffer.append(1, body)).toThrow(/not open/);
    expect(buffer.pending).toBe(0);
    expect(buffer.take(10)).toEqual([]);
    expect(buffer.enforce({ maxSamples: 1, createdAfterMs: 0, ackedBeforeMs: 0 })).toEqual({
      byCount: 0,
      byAge: 0,
    });
    expect(attempts).toBe(1); // not once per call
    advance(999);
    expect(buffer.pending).toBe(0);
    expect(attempts).toBe(1);
    advance(1);
    expect(buffer.pending).toBe(0);
    expect(attempts).toBe(2); // retried, still full
    full = false;
    advance(1000);
    expect(buffer.append(1, body)).toBe(1);
    expect(buffer.health?.()).toMatchObject({ available: true });
    expect(buffer.pending).toBe(1);
    buffer.close();
  });

  it("moves a file found damaged while running aside once and goes on in a new one, ids never reused", () => {
    let damaged = false;
    const { dir, buffer } = setup((options) => {
      const store = openBufferStore(options);
      // The real store, except that its reads fail as node:sqlite's do on a damaged page, while `damaged`.
      return {
        path: store.path,
        get pending() {
          return store.pending;
        },
        append: (c, b) => store.append(c, b),
        stamp: (id, session, seq) => store.stamp(id, session, seq),
        take: (limit, skip) => {
          if (damaged) throw malformed();
          return store.take(limit, skip);
        },
        acknowledge: (id, at, keep) => store.acknowledge(id, at, keep),
        reopen: (since) => store.reopen(since),
        enforce: (bounds) => store.enforce(bounds),
        close: () => store.close(),
      } satisfies BufferStore;
    });
    expect(buffer.append(1, body)).toBe(1);
    expect(buffer.append(2, body)).toBe(2);
    damaged = true;
    expect(() => buffer.take(10)).toThrow(/malformed/);
    damaged = false;
    // The next call works in a new file; nothing failed a second time.
    expect(buffer.take(10)).toEqual([]);
    expect(buffer.append(3, body)).toBe(3);
    buffer.acknowledge(1, 5, false); // a PUBACK for a row of the old file: does not touch row 1 of the new
    expect(buffer.pending).toBe(1);
    expect(buffer.take(10).map((r) => r.id)).toEqual([3]);
    expect(buffer.health?.()).toEqual({ available: true, movedAside: 1, walDamaged: 0 });
    expect(readdirSync(dir).filter((f) => /\.corrupt-\d+$/.test(f))).toHaveLength(1);
    buffer.close();
  });

  it("reports a damaged write-ahead log when it opens the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-wal-"));
    const path = join(dir, "edge.buffer.db");
    const first = openBufferStore({ path });
    first.append(1, body);
    first.close();
    writeFileSync(`${path}-wal`, Buffer.alloc(100, 0xab));
    expect(walProblem(`${path}-wal`)).toMatch(/magic/);
    const buffer = openResilientBuffer({ path, logger: silent, now: Date.now, monotonic: () => 0 });
    expect(buffer.health?.()).toMatchObject({ available: true, walDamaged: 1 });
    expect(buffer.pending).toBe(1); // the database itself was intact
    buffer.close();
    expect(existsSync(path)).toBe(true);
  });

  it("finds no problem in an absent, empty or well-formed write-ahead log", () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-wal-"));
    const path = join(dir, "edge.buffer.db");
    expect(walProblem(`${path}-wal`)).toBeUndefined();
    const store = openBufferStore({ path });
    store.append(1, body);
    expect(walProblem(`${path}-wal`)).toBeUndefined(); // the open store's live WAL
    store.close();
  });
});
