// Where shaped telemetry goes, and the seam for store-and-forward (a later issue). The outbox stamps
// `session` and `seq` when a sample actually leaves, so `seq` counts published samples only and the
// coordinator sees a gap only where one really happened. A buffering outbox (node:sqlite) would keep
// samples while offline and replay them with `historical: true` from `connected()`.
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
  /** Offers one sample; returns the message as sent, or undefined when it did not go out. */
  offer(body: TelemetryBody): MessageOf<"telemetry"> | undefined;
  /** The link is (again) ready with a new session; a buffering outbox replays here. */
  connected(): void;
  /** Samples not sent because the link was down. */
  readonly dropped: number;
}

/** Sends while the link is ready and drops otherwise: no buffering yet. */
export function createPassThroughOutbox(options: {
  link: TelemetryLink;
  sequence: Sequence;
  /** A publish that failed after it was handed to the link (connection lost in flight). */
  onPublishError?: (error: unknown) => void;
}): Outbox {
  let dropped = 0;
  return {
    offer(body) {
      if (!options.link.ready) {
        dropped += 1;
        return undefined;
      }
      const message = createMessage("telemetry", {
        ...body,
        session: options.sequence.session,
        seq: options.sequence.next(),
      });
      // Not awaited: a QoS 1 puback that never comes (connection lost) must not stall the sampling loop.
      options.link.publish(message).catch((error: unknown) => options.onPublishError?.(error));
      return message;
    },
    connected() {},
    get dropped() {
      return dropped;
    },
  };
}
