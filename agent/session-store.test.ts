import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSessionStore } from "./session-store.ts";

describe("session store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "k3sf-session-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("starts at 1 and keeps increasing across instances, as across process restarts", () => {
    const first = openSessionStore({ stateDir: dir, nodeId: "edge-01" });
    expect(first.current).toBe(0n);
    expect(first.next()).toBe(1n);
    expect(first.next()).toBe(2n);
    const restarted = openSessionStore({ stateDir: dir, nodeId: "edge-01" });
    expect(restarted.current).toBe(2n);
    expect(restarted.next()).toBe(3n);
  });

  it("advance moves past a floor in memory when the disk refuses, and persists it once it can", async () => {
    const store = openSessionStore({ stateDir: dir, nodeId: "edge-01" });
    expect(store.next()).toBe(1n);
    await chmod(dir, 0o500);
    try {
      // Root ignores the mode: only then does the write succeed here.
      const refused = process.getuid?.() !== 0;
      if (refused) expect(() => store.next()).toThrow(/cannot persist/);
      expect(store.advance(1_000n)).toBe(1_000n);
      expect(store.advance(5n)).toBe(1_001n); // never backwards
    } finally {
      await chmod(dir, 0o700);
    }
    expect(store.next()).toBe(1_002n);
    expect(openSessionStore({ stateDir: dir, nodeId: "edge-01" }).current).toBe(1_002n);
  });

  it("keeps one file per node, replaced atomically (no temporary file left behind)", async () => {
    openSessionStore({ stateDir: dir, nodeId: "a" }).next();
    const b = openSessionStore({ stateDir: dir, nodeId: "b" });
    b.next();
    b.next();
    expect((await readdir(dir)).sort()).toEqual(["a.session", "b.session"]);
    expect(await readFile(join(dir, "b.session"), "utf8")).toBe("2\n");
  });

  it("persists a 253-character node id (a long Kubernetes node name) under a distinct, legal file name", () => {
    const long = (c: string) => `${"n".repeat(252)}${c}`;
    const a = openSessionStore({ stateDir: dir, nodeId: long("a") });
    const b = openSessionStore({ stateDir: dir, nodeId: long("b") });
    expect(a.next()).toBe(1n);
    expect(b.next()).toBe(1n);
    expect(a.path).not.toBe(b.path);
    expect(openSessionStore({ stateDir: dir, nodeId: long("a") }).current).toBe(1n);
  });

  it("creates a missing state directory", () => {
    const store = openSessionStore({ stateDir: join(dir, "deep", "er"), nodeId: "n" });
    expect(store.next()).toBe(1n);
  });

  it("reseeds from the clock, never going back, when the file is garbage", async () => {
    await writeFile(join(dir, "n.session"), "\0\0garbage");
    const store = openSessionStore({ stateDir: dir, nodeId: "n", now: () => 1_700_000_000_123 });
    expect(store.next()).toBe(1_700_000_001n);
  });

  it.skipIf(process.getuid?.() === 0)(
    "fails with a coded error when the directory is not writable",
    async () => {
      await chmod(dir, 0o500);
      const store = openSessionStore({ stateDir: dir, nodeId: "n" });
      expect(() => store.next()).toThrow(expect.objectContaining({ code: "K3SF_ERR_SESSION_STORE" }));
      await chmod(dir, 0o700);
    },
  );

  it("fails with a coded error when the state dir is a file", async () => {
    const file = join(dir, "not-a-dir");
    await writeFile(file, "");
    let error: unknown;
    try {
      openSessionStore({ stateDir: file, nodeId: "n" }).next();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "K3SF_ERR_SESSION_STORE" });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
