// The install id: which machine install speaks for a node id (NodeBirth.install_id). Stable across
// restarts; different on another machine even when its SD card (state dir included) was cloned from this
// one, because it hashes the machine's own identity (/etc/machine-id, physical MAC addresses) with a
// random seed kept in the state dir. A wiped state dir gives a new id: the coordinator takes that as a
// new epoch for the node (its old install is gone), not as a conflict.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDirSync } from "../common/make-dir.ts";
import { AgentError } from "./errors.ts";

export const INSTALL_SEED_FILE = "install-seed";
const MACHINE_ID_PATHS = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

export interface MachineIdentity {
  /** Random, kept in the state dir; tells two installs on one machine apart. */
  seed: string;
  /** /etc/machine-id, "" when there is none (many containers). */
  machineId: string;
  /** MAC addresses of physical interfaces. */
  macs: readonly string[];
}

/** 24 hex digits from the three parts; pure. Order of `macs` does not matter. */
export function installIdOf(identity: MachineIdentity): string {
  const macs = [...new Set(identity.macs.map((m) => m.toLowerCase()))]
    .filter((m) => m !== "" && m !== "00:00:00:00:00:00")
    .sort();
  return createHash("sha256")
    .update(`k3s-fleet install\n${identity.seed}\n${identity.machineId}\n${macs.join(",")}`)
    .digest("hex")
    .slice(0, 24);
}

/** The seed in `<stateDir>/install-seed`, created (atomically) when missing or unreadable. */
export function loadInstallSeed(stateDir: string, random: () => string = randomSeed): string {
  const path = join(stateDir, INSTALL_SEED_FILE);
  try {
    const text = readFileSync(path, "utf8").trim();
    if (/^[0-9a-f]{32}$/.test(text)) return text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new AgentError("K3SF_ERR_INSTALL_ID", `cannot read the install seed from ${path}`, {
        cause: error,
      });
    }
  }
  const seed = random();
  try {
    makeDirSync(stateDir);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${seed}\n`, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (error) {
    throw new AgentError("K3SF_ERR_INSTALL_ID", `cannot write the install seed to ${path}`, { cause: error });
  }
  return seed;
}

/** The first non-empty machine id found, "" when none. */
export function readMachineId(paths: readonly string[] = MACHINE_ID_PATHS): string {
  for (const path of paths) {
    try {
      const id = readFileSync(path, "utf8").trim();
      if (id !== "" && id !== "uninitialized") return id;
    } catch {
      // absent in many containers: the seed and the MACs still tell machines apart
    }
  }
  return "";
}

function randomSeed(): string {
  return randomBytes(16).toString("hex");
}
