import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bufferPath, openBufferStore } from "./buffer-store.ts";

const body = (n: number) => new Uint8Array([n]);
const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

describe("buffer store (node:sqlite)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "k3sf-buffer-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("replays samples sent before (by session, seq) ahead of never-sent ones (oldest first), skipping those in flight", () => {
    const store = openBufferStore({ path: ":memory:" });
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((n) => store.append(1000 + n, body(n))) as number[];
    store.stamp(d as number, 7n, 2n);
    store.stamp(b as number, 7n, 1n);
    store.stamp(e as number, 6n, 9n);
    expect(ids(store.take(10))).toEqual([e, b, d, a, c]);
    expect(ids(store.take(2))).toEqual([e, b]);
    expect(ids(store.take(3, new Set([b as number, a as number])))).toEqual([e, d, c]);
    expect(store.take(1)[0]).toMatchObject({ id: e, createdMs: 1005, session: 6n, seq: 9n, body: body(5) });
    expect(store.take(5).at(-1)).toMatchObject({ session: undefined, seq: undefined });
    expect(store.pending).toBe(5);
    store.close();
  });

  it("keeps an acknowledged sample for the redelivery window, reopens it after a fault, then forgets it", () => {
    const store = openBufferStore({ path: ":memory:" });
    const a = store.append(100, body(1));
    const b = store.append(200, body(2));
    const c = store.append(300, body(3));
    store.acknowledge(a, 1_000, true);
    store.acknowledge(b, 2_000, true);
    store.acknowledge(c, 3_000, false); // no window: deleted at once
    store.acknowledge(c, 3_000, false); // a late second PUBACK changes nothing
    expect(store.pending).toBe(0);
    expect(store.take(10)).toEqual([]);
    expect(store.reopen(1_500)).toBe(1); // only b was acknowledged within the window
    expect(store.pending).toBe(1);
    expect(ids(store.take(10))).toEqual([b]);
    store.acknowledge(b, 2_500, true);
    store.enforce({ maxSamples: 10, createdAfterMs: 0, ackedBeforeMs: 5_000 });
    expect(store.reopen(0)).toBe(0); // both pruned
    store.close();
  });

  it("drops the oldest pending samples beyond the count bound and those older than the age bound", () => {
    const store = openBufferStore({ path: ":memory:" });
    for (let n = 1; n <= 10; n++) store.append(n * 1000, body(n));
    const acked = store.append(11_000, body(11));
    store.acknowledge(acked, 11_000, true); // acknowledged rows do not count against the bound
    expect(store.enforce({ maxSamples: 6, createdAfterMs: 2_500, ackedBeforeMs: 0 })).toEqual({
      byAge: 2,
      byCount: 2,
    });
    expect(store.pending).toBe(6);
    expect(store.take(10).map((r) => r.createdMs)).toEqual([5, 6, 7, 8, 9, 10].map((n) => n * 1000));
    store.close();
  });

  it("survives a restart: pending rows and identities are still there, and ids never repeat", () => {
    const path = bufferPath(dir, "edge-01");
    expect(path).toBe(join(dir, "edge-01.buffer.db"));
    const first = openBufferStore({ path });
    const a = first.append(1, body(1));
    const b = first.append(2, body(2));
    first.stamp(a, 3n, 4n);
    first.acknowledge(b, 5, false);
    first.close();
    // An abrupt end (SIGKILL) leaves the WAL beside the file; opening it again recovers it.
    expect(existsSync(path)).toBe(true);
    const again = openBufferStore({ path });
    expect(again.pending).toBe(1);
    expect(again.take(10)).toEqual([{ id: a, createdMs: 1, session: 3n, seq: 4n, body: body(1) }]);
    expect(again.append(6, body(6))).toBeGreaterThan(b);
    again.close();
    again.close(); // idempotent
  });

  it("moves a damaged file aside and starts a new buffer", () => {
    const path = join(dir, "nested", "node.buffer.db");
    openBufferStore({ path }).close(); // creates the directory
    writeFileSync(path, "this is not a database, just text that is long enough to have a header".repeat(20));
    const moved: string[] = [];
    const store = openBufferStore({ path, now: () => 42, onCorrupt: (to) => moved.push(to) });
    expect(moved).toEqual([`${path}.corrupt-42`]);
    expect(store.pending).toBe(0);
    expect(readdirSync(join(dir, "nested"))).toContain("node.buffer.db.corrupt-42");
    store.close();
  });

  it("fails with a coded error where no file can be created", () => {
    writeFileSync(join(dir, "file"), "");
    expect(() => openBufferStore({ path: join(dir, "file", "x.buffer.db") })).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_BUFFER_STORE", cause: expect.anything() }),
    );
  });

  it("shortens long node ids as the session file does", () => {
    const long = "n".repeat(253);
    const path = bufferPath(dir, long);
    expect(path.endsWith(".buffer.db")).toBe(true);
    expect(Buffer.byteLength(path.slice(dir.length + 1))).toBeLessThanOrEqual(255);
  });
});
