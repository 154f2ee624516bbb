// The agent's session number, persisted in `<stateDir>/<nodeId>.session` so it keeps increasing across
// restarts: the coordinator tells a new connection from a replayed one by it. Synchronous on purpose: the
// MQTT Will is built synchronously right before each connect, and this is one small write per connect.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { AgentError } from "./errors.ts";

export interface SessionStore {
  readonly path: string;
  /** The last session handed out (0 before the first). */
  readonly current: bigint;
  /** Increments, persists (write + fsync + rename), then returns the new session. Throws if it cannot persist. */
  next(): bigint;
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
  const path = join(options.stateDir, `${options.nodeId}.session`);
  let current = load(path, now, options.logger);

  return {
    path,
    get current() {
      return current;
    },
    next() {
      const session = current + 1n;
      try {
        mkdirSync(options.stateDir, { recursive: true });
        writeAtomically(path, `${session}\n`);
      } catch (error) {
        throw new AgentError("K3SF_ERR_SESSION_STORE", `cannot persist the session to ${path}`, {
          cause: error,
        });
      }
      current = session;
      return session;
    },
  };
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
