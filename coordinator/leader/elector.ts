// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a candidate takes the Lease
// when its holder has not renewed it for `leaseDurationMs` (measured on our own clock from when we last saw
// the record change, so clock skew between replicas does not matter); the leader renews every
// `retryPeriodMs` and stops acting once it has failed to renew for `renewDeadlineMs` — before its Lease can
// expire for the others, so two leaders never act at once. Writes use the Lease's resourceVersion: a
// conflict means someone else wrote first, and we lost that round. No I/O of its own: the Lease API and
// the timers are injected.
import type { Logger } from "pino";
import { FleetError } from "../../common/errors.ts";
import type { Timers } from "../../common/timers.ts";

/** The parts of a Lease the elector reads and writes. Times are epoch milliseconds. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number;
  renewTimeMs: number;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** The Lease API, as the elector needs it. `create`/`update` throw LeaseConflictError on 409. */
export interface LeaseClient {
  get(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

export type LeaseErrorCode =
  /** The Lease changed under us (HTTP 409): another replica wrote it first. */
  | "LEASE_CONFLICT"
  /** Lease timings where a leader could still act after its Lease expired (see validateTimings). */
  | "LEASE_INVALID_TIMINGS";

/** Leader election's errors. */
export class LeaderError extends FleetError<LeaseErrorCode> {}

export class LeaseConflictError extends LeaderError {
  constructor(message = "the Lease was written by someone else first", options?: { cause?: unknown }) {
    super("LEASE_CONFLICT", message, options);
  }
}

export interface ElectorTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ElectorEvents {
  /** We became the leader: start acting. */
  onStartedLeading(): void;
  /** We are no longer the leader (lost the Lease, could not renew in time, or stopped): stop acting now. */
  onStoppedLeading(): void;
  /** The holder we observe changed (may be us, may be "" when released). */
  onNewLeader?(identity: string): void;
}

export interface ElectorOptions extends ElectorTimings, ElectorEvents {
  client: LeaseClient;
  identity: string;
  logger: Logger;
  timers: Timers;
  /** Wall-clock milliseconds, written into the Lease. */
  now: () => number;
  /** A clock that never goes backwards, for our own expiry judgements. */
  monotonic: () => number;
}

export interface Elector {
  readonly isLeader: boolean;
  /** The holder we last observed ("" when none). */
  readonly leader: string;
  readonly transitions: number;
  /** Starts competing; resolves once the first attempt has finished (leading or not). */
  start(): Promise<void>;
  /** Stops competing; a leader releases the Lease so a standby takes over at once. */
  stop(): Promise<void>;
}

export function validateTimings({
  leaseDurationMs,
  renewDeadlineMs,
  retryPeriodMs,
}: ElectorTimings): string[] {
  const problems: string[] = [];
  // client-go's checks: the leader must give up before the others may take over, with jitter room.
  if (leaseDurationMs <= renewDeadlineMs) problems.push("leaseDuration must be greater than renewDeadline");
  if (renewDeadlineMs <= retryPeriodMs * 1.2)
    problems.push("renewDeadline must be greater than 1.2 × retryPeriod");
  if (retryPeriodMs < 1) problems.push("retryPeriod must be positive");
  return problems;
}

export function createElector(options: ElectorOptions): Elector {
  const problems = validateTimings(options);
  if (problems.length > 0)
    throw new LeaderError("LEASE_INVALID_TIMINGS", `invalid leader election timings: ${problems.join("; ")}`);
  const { client, identity, logger, timers, now, monotonic } = options;
  let leading = false;
  let stopped = true;
  let timer: unknown;
  let deadline: unknown;
  let observed: StoredLease | undefined;
  let observedAt = 0;
  let observedLeader = "";
  let transitions = 0;
  let round: Promise<void> = Promise.resolve();

  const observe = (lease: StoredLease | undefined) => {
    const changed =
      lease?.resourceVersion !== observed?.resourceVersion ||
      lease?.record.renewTimeMs !== observed?.record.renewTimeMs;
    if (changed) observedAt = monotonic();
    observed = lease;
    const holder = lease?.record.holderIdentity ?? "";
    if (holder !== observedLeader) {
      observedLeader = holder;
      options.onNewLeader?.(holder);
    }
  };

  const becomeLeader = () => {
    if (leading) return;
    leading = true;
    transitions += 1;
    logger.info({ identity }, "leader election: started leading");
    options.onStartedLeading();
  };

  const stopLeading = (why: string) => {
    timers.clearTimeout(deadline);
    if (!leading) return;
    leading = false;
    logger.warn({ identity, why }, "leader election: stopped leading");
    options.onStoppedLeading();
  };

  /** One try to take or renew the Lease; true when we hold it afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const current = await client.get();
    const wall = now();
    if (!current) {
      const created = await client.create({
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
        acquireTimeMs: wall,
        renewTimeMs: wall,
        leaseTransitions: 0,
      });
      observe(created);
      return true;
    }
    observe(current);
    const held = current.record.holderIdentity;
    const expired =
      held === "" ||
      monotonic() - observedAt >= current.record.leaseDurationSeconds * 1000 ||
      held === identity;
    if (!expired) return false;
    const renewing = held === identity;
    const updated = await client.update(
      {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
        acquireTimeMs: renewing ? current.record.acquireTimeMs : wall,
        renewTimeMs: wall,
        leaseTransitions: renewing ? current.record.leaseTransitions : current.record.leaseTransitions + 1,
      },
      current.resourceVersion,
    );
    observe(updated);
    return true;
  };

  const armDeadline = () => {
    timers.clearTimeout(deadline);
    // Runs even while a renew call hangs: the leader must give up in time whatever the API does.
    deadline = timers.setTimeout(() => stopLeading("renew deadline passed"), options.renewDeadlineMs);
  };

  /** A call that has not answered within the renew deadline counts as failed (its late answer is ignored). */
  const withTimeout = (work: Promise<boolean>): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      const t = timers.setTimeout(
        () => reject(new Error("Lease API call timed out")),
        options.renewDeadlineMs,
      );
      work.then(
        (v) => {
          timers.clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          timers.clearTimeout(t);
          reject(e);
        },
      );
    });

  const attempt = async () => {
    let holds = false;
    try {
      holds = await withTimeout(tryAcquireOrRenew());
    } catch (error) {
      if (!(error instanceof LeaseConflictError)) {
        logger.warn({ err: (error as Error).message }, "leader election: Lease API call failed");
      }
    }
    if (stopped) return;
    if (holds) {
      armDeadline();
      becomeLeader();
    } else if (leading && observed !== undefined && observed.record.holderIdentity !== identity) {
      stopLeading(`the Lease is held by ${observed.record.holderIdentity || "nobody"}`);
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      round = attempt().finally(schedule);
    }, options.retryPeriodMs);
  };

  return {
    get isLeader() {
      return leading;
    },
    get leader() {
      return observedLeader;
    },
    get transitions() {
      return transitions;
    },
    start() {
      if (!stopped) return round;
      stopped = false;
      const first = attempt();
      round = first.finally(schedule);
      return first;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      timers.clearTimeout(timer);
      await round.catch(() => {});
      const wasLeading = leading;
      stopLeading("stopped");
      if (!wasLeading || !observed || observed.record.holderIdentity !== identity) return;
      // Release, as client-go's ReleaseOnCancel: an empty holder lets a standby take over at once.
      try {
        await client.update(
          { ...observed.record, holderIdentity: "", leaseDurationSeconds: 1, renewTimeMs: now() },
          observed.resourceVersion,
        );
      } catch (error) {
        logger.warn({ err: (error as Error).message }, "leader election: could not release the Lease");
      }
    },
  };
}
