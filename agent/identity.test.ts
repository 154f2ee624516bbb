import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INSTALL_SEED_FILE, installIdOf, loadInstallSeed, readMachineId } from "./identity.ts";

describe("install id", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "k3sf-identity-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pi = { machineId: "a1b2", macs: ["DC:A6:32:00:00:01", "dc:a6:32:00:00:02"] };

  it("is stable across restarts: the seed is kept in the state dir", () => {
    const first = installIdOf({ seed: loadInstallSeed(dir), ...pi });
    const again = installIdOf({ seed: loadInstallSeed(dir), ...pi });
    expect(again).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{24}$/);
  });

  it("differs on another machine even when the card (state dir and machine-id) was cloned", () => {
    const seed = loadInstallSeed(dir);
    const clone = installIdOf({ seed, machineId: pi.machineId, macs: ["dc:a6:32:00:00:99"] });
    expect(clone).not.toBe(installIdOf({ seed, ...pi }));
  });

  it("differs after the state dir is wiped (a new epoch for the coordinator)", async () => {
    const before = installIdOf({ seed: loadInstallSeed(dir), ...pi });
    await rm(join(dir, INSTALL_SEED_FILE));
    expect(installIdOf({ seed: loadInstallSeed(dir), ...pi })).not.toBe(before);
  });

  it("ignores MAC order and case, and empty or all-zero MACs", () => {
    const seed = "0".repeat(32);
    expect(installIdOf({ seed, machineId: "m", macs: ["AA:BB:CC:00:00:01", "", "00:00:00:00:00:00"] })).toBe(
      installIdOf({ seed, machineId: "m", macs: ["aa:bb:cc:00:00:01"] }),
    );
  });

  it("replaces an unreadable seed file with a new seed", async () => {
    await writeFile(join(dir, INSTALL_SEED_FILE), "garbage");
    const seed = loadInstallSeed(dir, () => "f".repeat(32));
    expect(seed).toBe("f".repeat(32));
    expect(await readFile(join(dir, INSTALL_SEED_FILE), "utf8")).toBe(`${"f".repeat(32)}\n`);
  });

  it("fails with a coded error when the state dir is a file", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    expect(() => loadInstallSeed(file)).toThrow(expect.objectContaining({ code: "K3SF_ERR_INSTALL_ID" }));
  });

  it("reads the first non-empty machine id, or none", async () => {
    const empty = join(dir, "empty");
    const real = join(dir, "machine-id");
    await writeFile(empty, "\n");
    await writeFile(real, "0123abcd\n");
    expect(readMachineId([join(dir, "missing"), empty, real])).toBe("0123abcd");
    expect(readMachineId([join(dir, "missing")])).toBe("");
  });
});
