// Store-and-forward: every sample goes into the on-disk buffer first and leaves it only once the broker
// acknowledged it (PUBACK) and the redelivery window passed without a fault. While the link is down or the
// coordinator is away (outbox-gate.ts) samples wait; afterwards they are replayed, `historical = true`, at
// most `replayPerSecond` (sent with the sampling ticks, beside the live sample), so live data is never
// starved and a broker's per-client rate limit is not tripped.
//
// Identity: a sample gets (session, seq) the first time it is published and keeps it for every repeat, so
// the coordinator drops a repeat as an exact duplicate. Per tick, samples already sent once go first (by
// session, seq: a restarted coordinator must see them before newer seqs of the same session), then the
// live sample, then never-sent ones oldest first (they take the next seqs of the current session).
import type { Logger } from "pino";
import { createMessage, decode, encode, type MessageOf, PeerState, timestampMs } from "../proto/index.ts";
import type { BufferStore, StoredSample } from "./buffer-store.ts";
import { createFailureLog } from "./failure-log.ts";
import {
  EMPTY_OUTBOX_STATS,
  type Outbox,
  type OutboxStats,
  type Sequence,
  type TelemetryLink,
} from "./outbox.ts";
import {
  type Gate,
  type GatePolicy,
  gateOnConnect,
  gateOnStatus,
  gateOpen,
  INITIAL_GATE,
} from "./outbox-gate.ts";
import type { TelemetryBody } from "./shape.ts";

export interface BufferLimits {
  /** Pending samples kept at most; beyond it the oldest are dropped (and counted). */
  maxSamples: number;
  /** Pending samples older than this (by sampling time) are dropped (and counted). */
  maxAgeMs: number;
  /** Buffered samples replayed per second at most; a tick sends what accrued, up to one second's worth. */
  replayPerSecond: number;
  /** Acknowledged samples are kept this long and sent again after a fault (link lost, coordinator gone). */
  redeliverMs: number;
  /**
   * A live sample whose PUBACK has not come this long after its publish is written to disk (it is written
   * at the next sample anyway); default 1 s. 0: at once, every live sample (the disk-first behaviour).
   */
  spillAfterMs?: number;
}

export interface BufferedOutboxOptions {
  link: TelemetryLink;
  sequence: Sequence;
  store: BufferStore;
  limits: BufferLimits;
  gate: GatePolicy;
  logger: Logger;
  /** Wall clock: sampling time of buffered rows, acknowledgement time, the age bound. */
  now?: () => number;
  /** Monotonic clock: settling of a new coordinator, log rate limits. */
  monotonic?: () => number;
  /** Runs `callback` after `ms` (the spill timer); default an unref'd setTimeout. */
  schedule?: (callback: () => void, ms: number) => void;
}

/** A live sample held in memory: sent, not yet known to be safe. */
interface Held {
  body: TelemetryBody;
  createdMs: number;
  session: bigint;
  seq: bigint;
  /** Connection generation of its publish. */
  token: number;
  /** Wall-clock ms of its PUBACK; undefined while in flight. */
  ackedAtMs: number | undefined;
  /** Its row once written to disk; from then on the disk tier tracks it. */
  rowId: number | undefined;
}

const DEFAULT_SPILL_AFTER_MS = 1_000;
const defaultSchedule = (callback: () => void, ms: number) => {
  setTimeout(callback, ms).unref();
};

/** How long a connection may go without any coordinator status before the agent says so. */
const NO_STATUS_WARN_MS = 30_000;

export function createBufferedOutbox(options: BufferedOutboxOptions): Outbox {
  const { link, sequence, store, limits, logger: log } = options;
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const schedule = options.schedule ?? defaultSchedule;
  const spillAfterMs = limits.spillAfterMs ?? DEFAULT_SPILL_AFTER_MS;
  const stats: OutboxStats = { ...EMPTY_OUTBOX_STATS };
  /** Row id → the connection generation its publish belongs to. */
  const inflight = new Map<number, number>();
  /** Live samples kept in memory only (sent; in flight, or acknowledged within the redelivery window). */
  const held = new Set<Held>();
  let generation = 0;
  let gate: Gate = INITIAL_GATE;
  let connectedAtMs = 0;
  let warnedNoStatus = false;
  let draining = false;
  let closed = false;
  /** The disk tier has rows (pending, or acknowledged and kept) that its bounds must be applied to. */
  let diskInUse = store.pending > 0;
  /** Wall-clock ms until which acknowledged rows may still be kept on disk. */
  let keptOnDiskUntilMs = Number.NEGATIVE_INFINITY;
  // Token bucket for the replay rate: one second's worth at most.
  let tokens = 0;
  let refilledAtMs = monotonic();

  const storeFailures = createFailureLog({ logger: log, message: "telemetry buffer failed", monotonic });
  const publishFailures = createFailureLog({ logger: log, message: "telemetry publish failed", monotonic });
  const drops = createFailureLog({
    logger: log,
    message: "telemetry buffer over its bounds: oldest samples dropped",
    monotonic,
  });

  /** Runs a buffer operation; a failure (disk full, damaged file) is counted and logged, never thrown. */
  const guarded = <T>(operation: () => T): T | undefined => {
    try {
      return operation();
    } catch (error) {
      storeFailures.failed(error);
      stats.storeErrors += 1;
      return undefined;
    }
  };

  const open = () => gateOpen(gate, options.gate, link.ready, monotonic());

  const acknowledgeRow = (id: number) => {
    const keep = limits.redeliverMs > 0;
    if (keep) keptOnDiskUntilMs = now() + limits.redeliverMs;
    guarded(() => store.acknowledge(id, now(), keep));
  };

  /** Live samples in memory whose PUBACK has not come. */
  const unacknowledged = () => {
    let count = 0;
    for (const h of held) if (h.ackedAtMs === undefined) count += 1;
    return count;
  };

  /**
   * Writes a held sample to disk with its identity, so a restart (or the next connection) sends it again.
   * `inFlight`: its publish may still be acknowledged on this connection (the row is skipped until then).
   */
  const spill = (h: Held, inFlight: boolean): boolean => {
    held.delete(h);
    if (closed) return false;
    const id = guarded(() => {
      const appended = store.append(h.createdMs, encode("telemetry", createMessage("telemetry", h.body)));
      store.stamp(appended, h.session, h.seq);
      return appended;
    });
    if (id === undefined) return false;
    diskInUse = true;
    h.rowId = id;
    if (inFlight) inflight.set(id, h.token);
    return true;
  };

  /** Held samples that must outlive this connection or this coordinator go to disk as pending. */
  const spillHeld = (acknowledgedSinceMs: number): number => {
    let reopened = 0;
    for (const h of [...held]) {
      if (h.ackedAtMs === undefined) spill(h, false);
      else if (h.ackedAtMs >= acknowledgedSinceMs) {
        if (spill(h, false)) reopened += 1;
      } else held.delete(h);
    }
    return reopened;
  };

  const reopen = (why: string) => {
    if (limits.redeliverMs <= 0) return;
    const since = now() - limits.redeliverMs;
    const count = (guarded(() => store.reopen(since)) ?? 0) + spillHeld(since);
    stats.reopened += count;
    if (count > 0) log.info({ count, why }, "recently acknowledged telemetry will be sent again");
  };

  /** A buffered row goes out (again): tracked by its id until its PUBACK. */
  const publishRow = (id: number, message: MessageOf<"telemetry">) => {
    const token = generation;
    inflight.set(id, token);
    if (message.historical) stats.replayed += 1;
    else stats.live += 1;
    // Not awaited: a PUBACK that never comes (connection lost) must not stall the sampling loop.
    link.publish(message).then(
      () => {
        if (inflight.get(id) === token) inflight.delete(id);
        stats.acknowledged += 1;
        publishFailures.recovered();
        if (!closed) acknowledgeRow(id);
      },
      (error: unknown) => {
        // The row stays pending: it is replayed with the same identity.
        if (inflight.get(id) === token) inflight.delete(id);
        stats.failed += 1;
        publishFailures.failed(error);
      },
    );
  };

  /** A live sample sent from memory; it reaches the disk only if it has to (see the header). */
  const publishHeld = (h: Held, message: MessageOf<"telemetry">) => {
    held.add(h);
    stats.live += 1;
    link.publish(message).then(
      () => {
        stats.acknowledged += 1;
        publishFailures.recovered();
        if (h.rowId !== undefined) {
          if (inflight.get(h.rowId) === h.token) inflight.delete(h.rowId);
          if (!closed) acknowledgeRow(h.rowId);
          return;
        }
        h.ackedAtMs = now();
        if (limits.redeliverMs <= 0) held.delete(h);
      },
      (error: unknown) => {
        stats.failed += 1;
        publishFailures.failed(error);
        if (h.rowId !== undefined) {
          if (inflight.get(h.rowId) === h.token) inflight.delete(h.rowId);
        } else if (held.has(h)) spill(h, false); // replayed with the same identity
      },
    );
    if (spillAfterMs <= 0) spill(h, true);
    else
      schedule(() => {
        if (held.has(h) && h.ackedAtMs === undefined) spill(h, true);
      }, spillAfterMs);
  };

  /** A buffered row as it goes out again: its identity, or the next one of this session. */
  const replay = (row: StoredSample) => {
    const decoded = decode("telemetry", row.body);
    if (!decoded.ok) {
      // Written by this code, so only a damaged file gets here; the row can never be sent.
      log.error({ id: row.id, detail: decoded.detail }, "undecodable buffered sample dropped");
      store.acknowledge(row.id, now(), false);
      return;
    }
    const message = decoded.message;
    if (row.session === undefined || row.seq === undefined) {
      message.session = sequence.session;
      message.seq = sequence.next();
      store.stamp(row.id, message.session, message.seq); // before it leaves: a crash must not re-number it
    } else {
      message.session = row.session;
      message.seq = row.seq;
    }
    message.historical = true;
    publishRow(row.id, message);
  };

  const enforceBounds = (at: number) => {
    const dropped = store.enforce({
      maxSamples: limits.maxSamples,
      createdAfterMs: at - limits.maxAgeMs,
      ackedBeforeMs: at - limits.redeliverMs,
    });
    stats.droppedByCount += dropped.byCount;
    stats.droppedByAge += dropped.byAge;
    if (dropped.byCount + dropped.byAge > 0) {
      drops.failed(
        new Error(
          `${dropped.byCount} over the ${limits.maxSamples}-sample bound, ${dropped.byAge} older than ${limits.maxAgeMs} ms`,
        ),
      );
    } else if (store.pending < limits.maxSamples) drops.recovered();
    // Nothing pending and every kept acknowledgement expired: the disk is left alone until it is needed.
    if (store.pending === 0 && at > keptOnDiskUntilMs) diskInUse = false;
  };

  const warnIfNoStatus = () => {
    if (warnedNoStatus || gate.coordinator !== "unknown" || !options.gate.waitForCoordinator) return;
    if (!link.ready || monotonic() - connectedAtMs < NO_STATUS_WARN_MS) return;
    warnedNoStatus = true;
    log.warn(
      { pending: store.pending },
      "no coordinator status seen on this connection: telemetry is held in the buffer (agent.waitForCoordinator)",
    );
  };

  /** Buffered samples this tick may replay: the token bucket, and what is still in flight. */
  const replayBudget = () => {
    const rate = limits.replayPerSecond;
    const at = monotonic();
    tokens = Math.min(Math.max(1, rate), tokens + ((at - refilledAtMs) * rate) / 1000);
    refilledAtMs = at;
    // More than two seconds' worth unacknowledged: the broker is slow, so the replay waits (live does not).
    const unacked = inflight.size + unacknowledged();
    return Math.min(Math.floor(tokens), Math.max(0, Math.ceil(2 * rate) - unacked));
  };

  /** Memory that is no longer needed: acknowledged longer ago than the redelivery window. */
  const expireHeld = (at: number) => {
    for (const h of held) {
      if (h.ackedAtMs === undefined)
        spill(h, true); // no PUBACK since the last sample: keep it on disk
      else if (h.ackedAtMs < at - limits.redeliverMs) held.delete(h);
    }
  };

  return {
    offer(body: TelemetryBody) {
      stats.offered += 1;
      const at = now();
      expireHeld(at);
      if (!open()) {
        const id = guarded(() => {
          const appended = store.append(at, encode("telemetry", createMessage("telemetry", body)));
          diskInUse = true;
          enforceBounds(at);
          return appended;
        });
        if (id !== undefined) storeFailures.recovered();
        else stats.droppedOffline += 1; // neither stored nor sent
        warnIfNoStatus();
        return undefined;
      }
      if (diskInUse) guarded(() => enforceBounds(at));

      const budget = replayBudget();
      // Nothing on disk waits to be sent: no query (and no disk access at all) on the healthy path.
      const rows =
        store.pending > inflight.size
          ? (guarded(() => store.take(budget, new Set(inflight.keys()))) ?? [])
          : [];
      tokens -= rows.length;
      if (rows.length > 0 && !draining) {
        draining = true;
        log.info({ pending: store.pending }, "replaying buffered telemetry");
      }
      // Samples sent before go first, then the live one, then never-sent ones (see the header).
      guarded(() => {
        for (const row of rows) if (row.session !== undefined) replay(row);
      });
      const message = createMessage("telemetry", {
        ...body,
        session: sequence.session,
        seq: sequence.next(),
      });
      publishHeld(
        {
          body,
          createdMs: at,
          session: message.session,
          seq: message.seq,
          token: generation,
          ackedAtMs: undefined,
          rowId: undefined,
        },
        message,
      );
      guarded(() => {
        for (const row of rows) if (row.session === undefined) replay(row);
      });
      if (draining && store.pending <= inflight.size) {
        draining = false;
        log.info({ replayed: stats.replayed }, "buffered telemetry replayed");
      }
      return message;
    },

    connected() {
      generation += 1;
      // What was in flight on the old connection stays pending and is replayed with its identity.
      inflight.clear();
      gate = gateOnConnect(gate);
      connectedAtMs = monotonic();
      warnedNoStatus = false;
    },

    disconnected() {
      // In flight: it may never have arrived. Acknowledged just before: the coordinator may not have had it.
      for (const h of [...held]) if (h.ackedAtMs === undefined) spill(h, false);
      reopen("connection lost");
      held.clear();
    },

    coordinatorStatus(status) {
      if (status.state !== PeerState.ONLINE && status.state !== PeerState.OFFLINE) return;
      const sentAt = timestampMs(status.time);
      const before = gate.coordinator;
      const next = gateOnStatus(
        gate,
        {
          online: status.state === PeerState.ONLINE,
          instanceId: status.instanceId,
          ageMs: sentAt === undefined ? 0 : now() - sentAt,
        },
        options.gate,
        monotonic(),
      );
      gate = next.gate;
      if (gate.coordinator !== before) {
        log.info(
          { coordinator: gate.coordinator, instanceId: status.instanceId, pending: store.pending },
          gate.coordinator === "online" ? "coordinator online" : "coordinator offline: telemetry is buffered",
        );
      }
      if (next.fault) reopen("coordinator went away");
    },

    get dropped() {
      return stats.droppedByCount + stats.droppedByAge + stats.droppedOffline;
    },

    stats() {
      if (closed) return { ...stats, inflight: inflight.size };
      const health = store.health?.();
      return {
        ...stats,
        ...(health && {
          bufferUnavailable: health.available ? 0 : 1,
          bufferMovedAside: health.movedAside,
          bufferWalDamaged: health.walDamaged,
        }),
        pending: store.pending + unacknowledged(),
        inflight: inflight.size + unacknowledged(),
      };
    },

    close() {
      if (closed) return;
      // Never acknowledged: a restart sends it again.
      for (const h of [...held]) if (h.ackedAtMs === undefined) spill(h, false);
      held.clear();
      stats.pending = store.pending;
      closed = true;
      store.close();
    },
  };
}
