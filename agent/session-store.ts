// The agent's session number, persisted in `<stateDir>/<nodeId>.session` so it keeps increasing across
// restarts: the coordinator tells a new connection from a replayed one by it. Synchronous on purpose: the
// MQTT Will is built synchronously right before each connect, and this is one small write per connect.

import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { makeDirSync } from "../common/make-dir.ts";
import { AgentError } from "./errors.ts";

const MAX_PLAIN_NAME_BYTES = 200;

export interface SessionStore {
  readonly path: string;
  /** The last session handed out (0 before the first). */
  readonly current: bigint;
  /** Increments, persists (write + fsync + rename), then returns the new session. Throws if it cannot persist. */
  next(): bigint;
  /**
   * Moves on to at least `floor` (and past the current session) when `next` cannot persist: the new session
   * is used in memory, and persisted if the disk takes it now; later sessions count on from it.
   */
  advance(floor: bigint): bigint;
}

export interface SessionStoreOptions {
  stateDir: string;
  nodeId: string;
  /** Wall clock in ms, for reseeding after a corrupt file. */
  now?: () => number;
  logger?: Logger;
}

export function openSessionStore(options: SessionStoreOptions): SessionStore {
  const now = options.now ?? Date.now;
  const path = join(options.stateDir, sessionFileName(options.nodeId));
  let current = load(path, now, options.logger);

  return {
    path,
    get current() {
      return current;
    },
    next() {
      const session = current + 1n;
      try {
        makeDirSync(options.stateDir);
        writeAtomically(path, `${session}\n`);
      } catch (error) {
        throw new AgentError("K3SF_ERR_SESSION_STORE", `cannot persist the session to ${path}`, {
          cause: error,
        });
      }
      current = session;
      return session;
    },
    advance(floor) {
      current = floor > current ? floor : current + 1n;
      try {
        writeAtomically(path, `${current}\n`);
      } catch {
        // still full: the caller has said so
      }
      return current;
    },
  };
}

/**
 * `<nodeId>.session`. Node ids may be 253 bytes (a Kubernetes node name) and file names only 255, so a long
 * id is cut and suffixed with a hash of the whole id to keep names distinct.
 */
export function sessionFileName(nodeId: string): string {
  if (Buffer.byteLength(nodeId) <= MAX_PLAIN_NAME_BYTES) return `${nodeId}.session`;
  const digest = createHash("sha256").update(nodeId).digest("hex").slice(0, 16);
  let head = nodeId.slice(0, 200);
  while (Buffer.byteLength(head) > 200) head = head.slice(0, -1);
  return `${head}-${digest}.session`;
}

function load(path: string, now: () => number, logger: Logger | undefined): bigint {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0n;
    throw new AgentError("K3SF_ERR_SESSION_STORE", `cannot read the session from ${path}`, { cause: error });
  }
  if (/^\d{1,19}\s*$/.test(text)) return BigInt(text.trim());
  // A torn or foreign file: the old number is lost, so restart from the clock (seconds since the epoch),
  // which is above any count of connects a node could have made, and the session still only goes up.
  const reseed = BigInt(Math.floor(now() / 1000));
  logger?.warn({ path, reseed: String(reseed) }, "session file unreadable, reseeding from the clock");
  return reseed;
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd); // on power loss the rename must not expose an empty file
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
