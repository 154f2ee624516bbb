// `mkdir -p` that fails instead of spinning. Node's own `mkdirSync(path, { recursive: true })` loops for ever
// at 100 % CPU, with no output, when a parent exists but answers ENOENT for a new child, as procfs does
// (`--state-dir /proc/…`, or a host /proc mounted at /host/proc): Node reads ENOENT as "the parent is
// missing", creates the parent (EEXIST) and tries again, for ever (measured with Node 24 on Linux).
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";

/** Creates `path` and its missing parents; throws the system error (ENOENT, EACCES, …) it meets. */
export function makeDirSync(path: string): void {
  try {
    mkdirSync(path);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      existingDirectory(path, error);
      return;
    }
    const parent = dirname(path);
    if (code !== "ENOENT" || parent === path) throw error;
    makeDirSync(parent);
  }
  // The parent exists now: a second ENOENT is the answer, not a reason to try again.
  try {
    mkdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    existingDirectory(path, error);
  }
}

function existingDirectory(path: string, error: unknown): void {
  if (!statSync(path).isDirectory()) throw error;
}
