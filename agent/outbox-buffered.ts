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
}

/** How long a connection may go without any coordinator status before the agent says so. */
const NO_STATUS_WARN_MS = 30_000;

export function createBufferedOutbox(options: BufferedOutboxOptions): Outbox {
  const { link, sequence, store, limits, logger: log } = options;
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const stats: OutboxStats = { ...EMPTY_OUTBOX_STATS };
  /** Row id → the connection generation its publish belongs to. */
  const inflight = new Map<number, number>();
  let generation = 0;
  let gate: Gate = INITIAL_GATE;
  let connectedAtMs = 0;
  let warnedNoStatus = false;
  let draining = false;
  let closed = false;
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

  const reopen = (why: string) => {
    if (limits.redeliverMs <= 0) return;
    const count = guarded(() => store.reopen(now() - limits.redeliverMs)) ?? 0;
    stats.reopened += count;
    if (count > 0) log.info({ count, why }, "recently acknowledged telemetry will be sent again");
  };

  const publish = (id: number, message: MessageOf<"telemetry">) => {
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
        if (!closed) guarded(() => store.acknowledge(id, now(), limits.redeliverMs > 0));
      },
      (error: unknown) => {
        // The row stays pending: it is replayed with the same identity.
        if (inflight.get(id) === token) inflight.delete(id);
        stats.failed += 1;
        publishFailures.failed(error);
      },
    );
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
    publish(row.id, message);
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
    return Math.min(Math.floor(tokens), Math.max(0, Math.ceil(2 * rate) - inflight.size));
  };

  /** The live sample: stamped with the next seq (in its row first, when it has one) and published. */
  const sendLive = (body: TelemetryBody, id: number | undefined) => {
    const message = createMessage("telemetry", { ...body, session: sequence.session, seq: sequence.next() });
    if (id === undefined) {
      // Not stored: send it all the same, only without a second chance.
      stats.live += 1;
      link.publish(message).then(
        () => {
          stats.acknowledged += 1;
        },
        (error: unknown) => {
          stats.failed += 1;
          publishFailures.failed(error);
        },
      );
      return message;
    }
    // If the stamp cannot be written the row stays pending and unstamped: replayed later, never twice.
    const stamped = guarded(() => {
      store.stamp(id, message.session, message.seq);
      return true;
    });
    if (!stamped) return undefined;
    publish(id, message);
    return message;
  };

  return {
    offer(body: TelemetryBody) {
      stats.offered += 1;
      const at = now();
      const id = guarded(() => {
        const appended = store.append(at, encode("telemetry", createMessage("telemetry", body)));
        enforceBounds(at);
        return appended;
      });
      if (id !== undefined) storeFailures.recovered();
      if (!open()) {
        if (id === undefined) stats.droppedOffline += 1; // neither stored nor sent
        warnIfNoStatus();
        return undefined;
      }

      const skip = new Set(inflight.keys());
      if (id !== undefined) skip.add(id);
      const budget = replayBudget();
      const rows = guarded(() => store.take(budget, skip)) ?? [];
      tokens -= rows.length;
      if (rows.length > 0 && !draining) {
        draining = true;
        log.info({ pending: store.pending }, "replaying buffered telemetry");
      }
      // Samples sent before go first, then the live one, then never-sent ones (see the header).
      guarded(() => {
        for (const row of rows) if (row.session !== undefined) replay(row);
      });
      const sent = sendLive(body, id);
      guarded(() => {
        for (const row of rows) if (row.session === undefined) replay(row);
      });
      if (draining && store.pending <= inflight.size) {
        draining = false;
        log.info({ replayed: stats.replayed }, "buffered telemetry replayed");
      }
      return sent;
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
      reopen("connection lost");
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
      return { ...stats, pending: closed ? stats.pending : store.pending, inflight: inflight.size };
    },

    close() {
      if (closed) return;
      stats.pending = store.pending;
      closed = true;
      store.close();
    },
  };
}
