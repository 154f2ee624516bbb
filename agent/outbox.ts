// Where shaped telemetry goes. An outbox stamps `session` and `seq` when a sample first leaves, so `seq`
// counts published samples only and the coordinator sees a gap only where one really happened. Two
// implementations: the pass-through one here (send while connected, drop otherwise) and the
// store-and-forward one in outbox-buffered.ts (node:sqlite buffer, replay marked `historical`).
import { createMessage, type MessageOf } from "../proto/index.ts";
import type { TelemetryBody } from "./shape.ts";

export interface TelemetryLink {
  /** Connected and announced (birth and online status sent for the current session). */
  readonly ready: boolean;
  publish(message: MessageOf<"telemetry">): Promise<void>;
}

/** The session's counter: the agent resets it on every connect. */
export interface Sequence {
  readonly session: bigint;
  /** Consumes and returns the next seq (1 after a reset). */
  next(): bigint;
}

export interface Outbox {
  /** Offers one sample; returns the message as sent live, or undefined when it did not go out now. */
  offer(body: TelemetryBody): MessageOf<"telemetry"> | undefined;
  /** The link is (again) ready with a new session (birth and ONLINE sent). */
  connected(): void;
  /** The link went down: what was in flight, or acknowledged just before, may be lost. */
  disconnected(): void;
  /** The coordinator's retained status, as received on `{root}/coordinator/status`. */
  coordinatorStatus(status: MessageOf<"coordinatorStatus">): void;
  /** Samples given up: not sent while down (pass-through), or beyond the buffer's bounds. */
  readonly dropped: number;
  stats(): OutboxStats;
  /** Releases what the outbox holds open (the buffer file); idempotent. */
  close(): void;
}

export interface OutboxStats {
  /** Samples offered by the sampling loop. */
  offered: number;
  /** Sent as live samples (historical = false). */
  live: number;
  /** Sent from the buffer (historical = true), repeats included. */
  replayed: number;
  /** Publishes acknowledged by the broker (PUBACK). */
  acknowledged: number;
  /** Publishes that failed after hand-off (connection lost in flight). */
  failed: number;
  /** Held, waiting to be (re)sent or acknowledged. */
  pending: number;
  /** Publishes awaiting their PUBACK. */
  inflight: number;
  /** Dropped because the buffer was full (oldest first) or the sample was older than the age bound. */
  droppedByCount: number;
  droppedByAge: number;
  /** Dropped because the link was down and nothing buffers (pass-through). */
  droppedOffline: number;
  /** Acknowledged samples made pending again after a fault (the coordinator may not have had them). */
  reopened: number;
  /** Buffer reads or writes that failed (disk full, damaged file); the sample was sent unbuffered if it could be. */
  storeErrors: number;
  /** 1 while a configured buffer cannot be used (it could not be opened: full disk), else 0. */
  bufferUnavailable: number;
  /** Buffer files found damaged while running and moved aside; write-ahead logs found damaged at open. */
  bufferMovedAside: number;
  bufferWalDamaged: number;
}

export const EMPTY_OUTBOX_STATS: Readonly<OutboxStats> = {
  offered: 0,
  live: 0,
  replayed: 0,
  acknowledged: 0,
  failed: 0,
  pending: 0,
  inflight: 0,
  droppedByCount: 0,
  droppedByAge: 0,
  droppedOffline: 0,
  reopened: 0,
  storeErrors: 0,
  bufferUnavailable: 0,
  bufferMovedAside: 0,
  bufferWalDamaged: 0,
};

/** Sends while the link is ready and drops otherwise: no buffering. */
export function createPassThroughOutbox(options: {
  link: TelemetryLink;
  sequence: Sequence;
  /** A publish that failed after it was handed to the link (connection lost in flight). */
  onPublishError?: (error: unknown) => void;
}): Outbox {
  const stats: OutboxStats = { ...EMPTY_OUTBOX_STATS };
  return {
    offer(body) {
      stats.offered += 1;
      if (!options.link.ready) {
        stats.droppedOffline += 1;
        return undefined;
      }
      const message = createMessage("telemetry", {
        ...body,
        session: options.sequence.session,
        seq: options.sequence.next(),
      });
      stats.live += 1;
      stats.inflight += 1;
      // Not awaited: a QoS 1 puback that never comes (connection lost) must not stall the sampling loop.
      options.link.publish(message).then(
        () => {
          stats.inflight -= 1;
          stats.acknowledged += 1;
        },
        (error: unknown) => {
          stats.inflight -= 1;
          stats.failed += 1;
          options.onPublishError?.(error);
        },
      );
      return message;
    },
    connected() {},
    disconnected() {},
    coordinatorStatus() {},
    get dropped() {
      return stats.droppedOffline;
    },
    stats: () => ({ ...stats }),
    close() {},
  };
}
