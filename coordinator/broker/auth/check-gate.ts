// Who may spend a password check, and when. scrypt is deliberately slow (tens of ms and 32 MiB each, on
// libuv's four threads), so a flood of CONNECTs with wrong passwords must not queue one check per packet:
// - at most `concurrency` checks run at once, at most `maxQueued` wait; past that the CONNECT is answered
//   "server unavailable" (CONNACK 3) at once, as EMQX answers when its auth is overloaded;
// - at most `maxPerAddress` checks per remote address run or wait, and waiting checks take turns by address
//   (round robin), and a full queue makes room for an address with fewer waiting checks by answering the
//   busiest address's newest one busy: a flood from one address delays a client from another by a check
//   or two, not by the whole queue, and cannot keep it out;
// - after `freeFailures` failed checks in a row for one username from one address, that address waits before
//   it may try that username again (doubling from `backoffInitialMs` to `backoffMaxMs`), answered CONNACK 3
//   without a check meanwhile; a typo followed by the right password is not delayed;
// - a check is not queued when the wait it would have, estimated from recent check times, is above
//   `maxWaitMs` (answered CONNACK 3 at once): the queue's length adapts to how fast this machine hashes;
// - a check whose client has already gone is skipped;
// - a good login is remembered for `cacheTtlMs` as an HMAC of the password under a key that lives only in
//   this process, so a client reconnecting with the same password costs one HMAC, not one scrypt.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface CheckGateOptions {
  concurrency: number;
  maxQueued: number;
  maxPerAddress: number;
  /** Longest expected wait in the queue (queued checks ÷ concurrency × recent check time). */
  maxWaitMs: number;
  freeFailures: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  cacheTtlMs: number;
  /** Remembered logins and back-off entries, each; the oldest go first. */
  maxEntries: number;
  /** Monotonic milliseconds. */
  now: () => number;
}

export const DEFAULT_CHECK_GATE: Omit<CheckGateOptions, "now"> = {
  concurrency: 2,
  maxQueued: 16,
  maxPerAddress: 4,
  maxWaitMs: 2000,
  freeFailures: 3,
  backoffInitialMs: 500,
  backoffMaxMs: 10_000,
  cacheTtlMs: 5 * 60_000,
  maxEntries: 10_000,
};

export interface CheckRequest {
  address: string;
  username: string;
  password: Buffer;
  /** The expensive check itself. */
  verify: () => Promise<boolean>;
  /** False once the client has gone: its check is skipped. */
  alive: () => boolean;
}

/** `busy`: no room to check now; `backoff`: this address failed for this user too recently; `gone`: skipped. */
export type CheckOutcome = "ok" | "bad" | "busy" | "backoff" | "gone";

export interface CheckGate {
  check(request: CheckRequest): Promise<CheckOutcome>;
  /** Forget remembered logins (the users table changed). */
  forget(): void;
  /** Checks running and waiting now. */
  load(): { running: number; queued: number; checkMs: number };
}

interface Backoff {
  failures: number;
  until: number;
}

export function createCheckGate(options: CheckGateOptions): CheckGate {
  const { concurrency, maxQueued, maxPerAddress, freeFailures, backoffInitialMs, backoffMaxMs } = options;
  const { cacheTtlMs, maxEntries, maxWaitMs, now } = options;
  /** Moving average of check durations (ms); starts at 0 so the first checks are never refused for it. */
  let checkMs = 0;
  const key = randomBytes(32);
  const remembered = new Map<string, { digest: Buffer; expires: number }>();
  const backoffs = new Map<string, Backoff>();
  const perAddress = new Map<string, number>();
  /** Waiting checks by address; Map order is the round-robin order. */
  const lanes = new Map<string, Array<(admitted: boolean) => void>>();
  let queued = 0;
  let running = 0;

  const digestOf = (username: string, password: Buffer) =>
    createHmac("sha256", key).update(username).update("\0").update(password).digest();

  function bounded<V>(map: Map<string, V>, k: string, value: V) {
    map.delete(k);
    map.set(k, value);
    if (map.size > maxEntries) map.delete(map.keys().next().value as string);
  }

  function isRemembered(username: string, password: Buffer): boolean {
    const entry = remembered.get(username);
    if (entry === undefined) return false;
    if (entry.expires <= now()) {
      remembered.delete(username);
      return false;
    }
    return timingSafeEqual(entry.digest, digestOf(username, password));
  }

  /**
   * A slot now, a place in the queue (resolves true when its turn comes, false when it was pushed out), or
   * undefined when there is no room. A full queue still takes a check from an address with fewer waiting
   * checks than the address with the most: that one's newest waiting check is answered busy instead, so
   * one address cannot keep the queue to itself.
   */
  function takeSlot(address: string): Promise<boolean> | undefined {
    if (running < concurrency) {
      running++;
      return Promise.resolve(true);
    }
    const full = queued >= maxQueued || ((queued + 1) / concurrency) * checkMs > maxWaitMs;
    if (full && !pushOut(address)) return undefined;
    queued++;
    return new Promise((resolve) => {
      const lane = lanes.get(address);
      if (lane) lane.push(resolve);
      else lanes.set(address, [resolve]);
    });
  }

  /**
   * Answers busy to the newest waiting check of the address with the most checks running or waiting, if it
   * has more than one more than `address`: a flood from one address makes room for a client from another,
   * but addresses with a check each do not push each other out.
   */
  function pushOut(address: string): boolean {
    const own = perAddress.get(address) ?? 0;
    let busiest: string | undefined;
    for (const lane of lanes.keys()) {
      if (busiest === undefined || (perAddress.get(lane) ?? 0) > (perAddress.get(busiest) ?? 0))
        busiest = lane;
    }
    if (busiest === undefined || busiest === address || (perAddress.get(busiest) ?? 0) <= own + 1)
      return false;
    const lane = lanes.get(busiest) as Array<(admitted: boolean) => void>;
    const evicted = lane.pop() as (admitted: boolean) => void;
    if (lane.length === 0) lanes.delete(busiest);
    queued--;
    evicted(false);
    return true;
  }

  /** Hands the slot to the first waiting address's oldest check, and sends that address to the back. */
  function releaseSlot() {
    const first = lanes.entries().next();
    if (first.done) {
      running--;
      return;
    }
    const [address, lane] = first.value;
    const next = lane.shift() as (admitted: boolean) => void;
    lanes.delete(address);
    if (lane.length > 0) lanes.set(address, lane);
    queued--;
    next(true);
  }

  async function run(request: CheckRequest): Promise<CheckOutcome> {
    const backoffKey = `${request.address}\0${request.username}`;
    if (!request.alive()) return "gone";
    const started = now();
    const ok = await request.verify();
    const took = now() - started;
    checkMs = checkMs === 0 ? took : checkMs * 0.8 + took * 0.2;
    if (ok) {
      backoffs.delete(backoffKey);
      bounded(remembered, request.username, {
        digest: digestOf(request.username, request.password),
        expires: now() + cacheTtlMs,
      });
      return "ok";
    }
    const failures = (backoffs.get(backoffKey)?.failures ?? 0) + 1;
    const over = failures - freeFailures;
    const wait = over <= 0 ? 0 : Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(over - 1, 30));
    bounded(backoffs, backoffKey, { failures, until: now() + wait });
    return "bad";
  }

  return {
    async check(request) {
      if (isRemembered(request.username, request.password)) return "ok";
      const backoff = backoffs.get(`${request.address}\0${request.username}`);
      if (backoff !== undefined && now() < backoff.until) return "backoff";
      const active = perAddress.get(request.address) ?? 0;
      if (active >= maxPerAddress) return "busy";
      const slot = takeSlot(request.address);
      if (slot === undefined) return "busy";
      perAddress.set(request.address, active + 1);
      let admitted = false;
      try {
        admitted = await slot;
        return admitted ? await run(request) : "busy";
      } finally {
        if (admitted) releaseSlot();
        const left = (perAddress.get(request.address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(request.address);
        else perAddress.set(request.address, left);
      }
    },
    forget: () => remembered.clear(),
    load: () => ({ running, queued, checkMs: Math.round(checkMs) }),
  };
}
