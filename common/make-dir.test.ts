import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeDirSync } from "./make-dir.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "k3sf-mkdir-"));

describe("makeDirSync", () => {
  it("creates missing parents, and takes an existing directory as done", () => {
    const dir = join(scratch(), "a", "b", "c");
    makeDirSync(dir);
    makeDirSync(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it("refuses a file where a directory should be", () => {
    const root = scratch();
    writeFileSync(join(root, "file"), "");
    expect(() => makeDirSync(join(root, "file"))).toThrow(expect.objectContaining({ code: "EEXIST" }));
    expect(() => makeDirSync(join(root, "file", "sub"))).toThrow(
      expect.objectContaining({ code: "ENOTDIR" }),
    );
  });

  it("answers ENOENT under a dangling symlink", () => {
    const root = scratch();
    mkdirSync(join(root, "mnt"));
    symlinkSync(join(root, "mnt", "usb", "k3s-fleet"), join(root, "state"));
    expect(() => makeDirSync(join(root, "state", "sub"))).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });

  // Node's recursive mkdir never returns here (test/hostile/state-dir-proc.test.ts runs that through the CLI).
  it.runIf(process.platform === "linux")("answers ENOENT under /proc", () => {
    expect(() => makeDirSync(`/proc/k3sf-${process.pid}-none/state`)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });
});
