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
//   this process, so a client reconnecting with the same password costs one HMAC, not one scrypt;
// - checks for usernames that are not in the users file, and for users whose password failed within
//   `suspectMs`, wait in a second, low-priority queue with its own budget: at most `unknownConcurrency` of
//   them run at once, at most `unknownMaxQueued` wait, at most `unknownRatePerSecond` start (token bucket,
//   burst `unknownBurst`), and a freed slot goes to a known user first. A flood of made-up usernames spread
//   over many addresses (which defeats every per-address bound) then costs a few checks a second and never
//   holds the slots known users need (a budget for the whole broker, as EMQX's listener-wide max_conn_rate
//   is, rather than per address).
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
  /** Low-priority checks (unknown usernames, recently failed users): running at once, at most. */
  unknownConcurrency: number;
  /** Low-priority checks waiting, at most. */
  unknownMaxQueued: number;
  /** Low-priority checks started per second, at most (token bucket), and the bucket's size. */
  unknownRatePerSecond: number;
  unknownBurst: number;
  /** A known user whose password failed is checked at low priority for this long (a success ends it). */
  suspectMs: number;
  /** Monotonic milliseconds. */
  now: () => number;
}

/** The password checks' bounds that are settings (config broker.authConcurrency, broker.authQueue). */
export type CheckGateSettings = Pick<CheckGateOptions, "concurrency" | "maxQueued">;

/**
 * The other bounds are not settings but internal safety constants: they were tuned together against the
 * floods of test/hostile/auth-flood*.test.ts (fairness by address, the low-priority budget), and turning one
 * alone would reopen what they close.
 */
export const CHECK_GATE_BOUNDS: Omit<CheckGateOptions, "now" | keyof CheckGateSettings> = {
  maxPerAddress: 4,
  maxWaitMs: 2000,
  freeFailures: 3,
  backoffInitialMs: 500,
  backoffMaxMs: 10_000,
  cacheTtlMs: 5 * 60_000,
  maxEntries: 10_000,
  unknownConcurrency: 1,
  unknownMaxQueued: 4,
  unknownRatePerSecond: 5,
  unknownBurst: 10,
  suspectMs: 60_000,
};

export interface CheckRequest {
  address: string;
  username: string;
  password: Buffer;
  /** The username is in the users file (false: checked at low priority against a decoy hash). */
  known: boolean;
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
  load(): { running: number; queued: number; checkMs: number; unknownRunning: number; unknownQueued: number };
}

interface Backoff {
  failures: number;
  until: number;
}

/** One priority class: its waiting checks by address (Map order is the round-robin order) and bounds. */
interface Queue {
  lanes: Map<string, Array<(admitted: boolean) => void>>;
  queued: number;
  running: number;
  maxRunning: number;
  maxQueued: number;
  /** Checks running or waiting in this class, by address. */
  perAddress: Map<string, number>;
}

function newQueue(maxRunning: number, maxQueued: number): Queue {
  return { lanes: new Map(), queued: 0, running: 0, maxRunning, maxQueued, perAddress: new Map() };
}

export function createCheckGate(options: CheckGateOptions): CheckGate {
  const { concurrency, maxQueued, maxPerAddress, freeFailures, backoffInitialMs, backoffMaxMs } = options;
  const { cacheTtlMs, maxEntries, maxWaitMs, suspectMs, now } = options;
  /** Moving average of check durations (ms); starts at 0 so the first checks are never refused for it. */
  let checkMs = 0;
  const key = randomBytes(32);
  const remembered = new Map<string, { digest: Buffer; expires: number }>();
  const backoffs = new Map<string, Backoff>();
  /** Known users whose password failed recently: until when they are checked at low priority. */
  const suspects = new Map<string, number>();
  const known = newQueue(concurrency, maxQueued);
  const unknown = newQueue(Math.min(concurrency, options.unknownConcurrency), options.unknownMaxQueued);
  let running = 0;
  let tokens = options.unknownBurst;
  let refilled = now();

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

  function isSuspect(username: string): boolean {
    const until = suspects.get(username);
    if (until === undefined) return false;
    if (until > now()) return true;
    suspects.delete(username);
    return false;
  }

  /** Whether the token bucket holds a low-priority start (spent only when the check gets a place). */
  function hasToken(): boolean {
    const t = now();
    tokens = Math.min(options.unknownBurst, tokens + ((t - refilled) / 1000) * options.unknownRatePerSecond);
    refilled = t;
    return tokens >= 1;
  }

  const canRun = (queue: Queue) => running < concurrency && queue.running < queue.maxRunning;

  /**
   * A slot now, a place in the queue (resolves true when its turn comes, false when it was pushed out), or
   * undefined when there is no room. A full queue still takes a check from an address with fewer waiting
   * checks than the address with the most: that one's newest waiting check is answered busy instead, so
   * one address cannot keep the queue to itself.
   */
  function takeSlot(queue: Queue, address: string): Promise<boolean> | undefined {
    if (canRun(queue) && queue.queued === 0) {
      running++;
      queue.running++;
      return Promise.resolve(true);
    }
    const full =
      queue.queued >= queue.maxQueued || ((queue.queued + 1) / queue.maxRunning) * checkMs > maxWaitMs;
    if (full && !pushOut(queue, address)) return undefined;
    queue.queued++;
    return new Promise((resolve) => {
      const lane = queue.lanes.get(address);
      if (lane) lane.push(resolve);
      else queue.lanes.set(address, [resolve]);
    });
  }

  /**
   * Answers busy to the newest waiting check of the address with the most checks running or waiting, if it
   * has more than one more than `address`: a flood from one address makes room for a client from another,
   * but addresses with a check each do not push each other out.
   */
  function pushOut(queue: Queue, address: string): boolean {
    const count = (a: string) => queue.perAddress.get(a) ?? 0;
    let busiest: string | undefined;
    for (const lane of queue.lanes.keys()) {
      if (busiest === undefined || count(lane) > count(busiest)) busiest = lane;
    }
    if (busiest === undefined || busiest === address || count(busiest) <= count(address) + 1) return false;
    const lane = queue.lanes.get(busiest) as Array<(admitted: boolean) => void>;
    const evicted = lane.pop() as (admitted: boolean) => void;
    if (lane.length === 0) queue.lanes.delete(busiest);
    queue.queued--;
    evicted(false);
    return true;
  }

  /** Starts the first waiting address's oldest check of `queue`, and sends that address to the back. */
  function startNext(queue: Queue): boolean {
    const first = queue.lanes.entries().next();
    if (first.done || !canRun(queue)) return false;
    const [address, lane] = first.value;
    const next = lane.shift() as (admitted: boolean) => void;
    queue.lanes.delete(address);
    if (lane.length > 0) queue.lanes.set(address, lane);
    queue.queued--;
    running++;
    queue.running++;
    next(true);
    return true;
  }

  /** A check of `queue` ended: free slots go to known users first, then to the low-priority queue. */
  function releaseSlot(queue: Queue) {
    running--;
    queue.running--;
    while (startNext(known) || startNext(unknown)) {}
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
      suspects.delete(request.username);
      bounded(remembered, request.username, {
        digest: digestOf(request.username, request.password),
        expires: now() + cacheTtlMs,
      });
      return "ok";
    }
    if (request.known) bounded(suspects, request.username, now() + suspectMs);
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
      const queue = request.known && !isSuspect(request.username) ? known : unknown;
      const active = queue.perAddress.get(request.address) ?? 0;
      if (active >= maxPerAddress) return "busy";
      if (queue === unknown && !hasToken()) return "busy";
      const slot = takeSlot(queue, request.address);
      if (slot === undefined) return "busy";
      if (queue === unknown) tokens -= 1;
      queue.perAddress.set(request.address, active + 1);
      let admitted = false;
      try {
        admitted = await slot;
        return admitted ? await run(request) : "busy";
      } finally {
        if (admitted) releaseSlot(queue);
        const left = (queue.perAddress.get(request.address) ?? 1) - 1;
        if (left <= 0) queue.perAddress.delete(request.address);
        else queue.perAddress.set(request.address, left);
      }
    },
    forget: () => {
      remembered.clear();
      suspects.clear();
    },
    load: () => ({
      running,
      queued: known.queued + unknown.queued,
      checkMs: Math.round(checkMs),
      unknownRunning: unknown.running,
      unknownQueued: unknown.queued,
    }),
  };
}
