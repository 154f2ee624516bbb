// The agent's MQTT session numbers: a new persisted one before every connect (session-store.ts). A full
// disk must not keep the node off the fleet: when a session cannot be persisted the agent goes on with one
// in memory and says so.
import type { Logger } from "pino";
import type { SessionStore } from "./session-store.ts";

export interface SessionCounter {
  /** The session of the current (or last) connection; before the first connect, the one it will use. */
  readonly current: bigint;
  /** The session for the next connect; the first call returns the one chosen at start. */
  take(): bigint;
}

export function createSessionCounter(store: SessionStore, now: () => number, log: Logger): SessionCounter {
  // At start, an unpersisted session comes from the clock (seconds since the epoch: above what earlier runs
  // used, and what a later restart picks again only a second or more later).
  let pending: bigint | undefined;
  try {
    pending = store.next();
  } catch (error) {
    pending = store.advance(BigInt(Math.floor(now() / 1000)));
    log.error(
      { err: error, session: `${pending}` },
      "session not persisted: starting with a session from the clock",
    );
  }
  let current = pending;

  const nextSession = (): bigint => {
    if (pending !== undefined) {
      const first = pending;
      pending = undefined;
      return first;
    }
    try {
      const next = store.next();
      return next > current ? next : current + 1n;
    } catch (error) {
      // Keep connecting: a full disk must not take the node off the fleet. The session still increases
      // within this process; only a restart before the disk recovers could reuse a number.
      log.error({ err: error }, "session not persisted");
      return store.advance(current + 1n);
    }
  };
  return {
    get current() {
      return current;
    },
    take() {
      current = nextSession();
      return current;
    },
  };
}
