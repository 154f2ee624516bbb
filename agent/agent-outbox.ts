// Where the agent's telemetry goes: the store-and-forward buffer when it has one (outbox-buffered.ts), else
// straight to the link while connected (outbox.ts), or the caller's own outbox.
import type { Logger } from "pino";
import type { AgentOptions } from "./agent.ts";
import { openResilientBuffer } from "./buffer-resilient.ts";
import { type BufferStore, bufferPath, sqliteMissing } from "./buffer-store.ts";
import type { FailureLog } from "./failure-log.ts";
import { createPassThroughOutbox, type Outbox, type Sequence, type TelemetryLink } from "./outbox.ts";
import { createBufferedOutbox } from "./outbox-buffered.ts";

/** Wait after a new coordinator instance announces itself (BufferOptions.settleMs), so it has subscribed. */
const SETTLE_MS = 1_000;

interface Clocks {
  now: () => number;
  monotonic: () => number;
}

/**
 * The buffer file, when the options ask for one. Without node:sqlite (Node.js 20) the agent runs without a
 * buffer and says so. A buffer that cannot be opened (full disk, unwritable state dir) does not stop the
 * start either: the agent runs without it, says so, and opens it when it can (buffer-resilient.ts).
 */
export function openAgentBuffer(options: AgentOptions, log: Logger, clocks: Clocks): BufferStore | undefined {
  if (!options.buffer || options.outbox) return undefined;
  const noSqlite = sqliteMissing();
  if (noSqlite) {
    log.warn({ reason: noSqlite }, "no telemetry buffer: samples are dropped while offline");
    return undefined;
  }
  return openResilientBuffer({
    path: bufferPath(options.stateDir, options.nodeId),
    logger: log.child({ part: "buffer" }),
    ...clocks,
    retryMs: options.buffer.retryMs,
    open: options.buffer.open,
  });
}

export function createAgentOutbox(
  options: AgentOptions,
  wiring: {
    link: TelemetryLink;
    sequence: Sequence;
    buffer: BufferStore | undefined;
    /** Pass-through publishes that fail are logged here (the buffer logs its own). */
    publishFailures: FailureLog;
    logger: Logger;
  },
  clocks: Clocks,
): Outbox {
  const { link, sequence, buffer, publishFailures, logger: log } = wiring;
  if (options.outbox) return options.outbox(link, sequence);
  if (buffer && options.buffer) {
    const { redeliverMs, settleMs, waitForCoordinator, maxSamples, maxAgeMs, replayPerSecond } =
      options.buffer;
    return createBufferedOutbox({
      link,
      sequence,
      store: buffer,
      limits: {
        maxSamples,
        maxAgeMs,
        replayPerSecond,
        redeliverMs: redeliverMs ?? Math.max(20_000, 2 * options.keepaliveSeconds * 1000),
      },
      gate: { waitForCoordinator, settleMs: settleMs ?? SETTLE_MS },
      logger: log.child({ part: "buffer" }),
      ...clocks,
    });
  }
  return createPassThroughOutbox({
    link,
    sequence,
    onPublishError: (error) => publishFailures.failed(error),
  });
}
