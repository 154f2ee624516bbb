// The agent's sampling loop: one sample at a time (the ticker's, or the early first one), shaped into
// telemetry against the previous counters and offered to the outbox; stats for the agent's /metrics.
import type { Logger } from "pino";
import { REAL_TIMERS, type Timers } from "../common/timers.ts";
import { createFailureLog } from "./failure-log.ts";
import type { SampleSource } from "./readings.ts";
import { type Counters, type HealthInput, shapeTelemetry, type TelemetryBody } from "./shape.ts";
import { startTicker } from "./ticker.ts";

export interface SamplingStats {
  taken: number;
  failed: number;
  skipped: number;
  /** Sum of sample durations, and the latest one, in seconds. */
  durationSecondsTotal: number;
  lastDurationSeconds: number;
}

/** The first sample comes this long after start (or after the first announce, if later). */
const EARLY_SAMPLE_MS = 250;

export interface SamplingLoopOptions {
  source: SampleSource;
  /** Primed counters (see primeNode), so the first telemetry carries real rates. */
  counters: Counters;
  /** When `counters` were primed (monotonic ms). */
  primedAtMs: number;
  intervalMs: number;
  now: () => number;
  monotonic: () => number;
  timers?: Timers;
  logger: Logger;
  /** The link's and the internet's health at the time of a sample. */
  health: () => HealthInput;
  offer: (telemetry: TelemetryBody) => void;
}

export interface SamplingLoop {
  /** A copy of the stats so far. */
  stats(): SamplingStats;
  /**
   * After the first announce: the first sample need not wait a whole interval (issue 14: start to first
   * sample ≤ 1 s); it is taken shortly after, once the coordinator's retained status has had time to arrive
   * and the rates cover a measurable window. The fixed-rate schedule goes on unchanged. Once only.
   */
  sampleEarly(stopping: () => boolean): void;
  /** Stops the ticker and waits for a sample in progress. */
  stop(): Promise<void>;
}

export function startSamplingLoop(options: SamplingLoopOptions): SamplingLoop {
  const { source, now, monotonic, logger: log } = options;
  let counters = options.counters;
  let earlySampleScheduled = false;
  const sampling: SamplingStats = {
    taken: 0,
    failed: 0,
    skipped: 0,
    durationSecondsTotal: 0,
    lastDurationSeconds: 0,
  };
  const sampleFailures = createFailureLog({ logger: log, message: "sampling failed", monotonic });
  const overruns = createFailureLog({ logger: log, message: "sampling overran its interval", monotonic });
  const takeSample = async (): Promise<void> => {
    const started = monotonic();
    try {
      const reading = await source.read();
      const shaped = shapeTelemetry(reading, counters, now(), options.health());
      counters = shaped.counters;
      options.offer(shaped.telemetry);
      sampling.taken++;
      sampleFailures.recovered();
    } catch (error) {
      sampling.failed++;
      sampleFailures.failed(error);
    } finally {
      sampling.lastDurationSeconds = (monotonic() - started) / 1000;
      sampling.durationSecondsTotal += sampling.lastDurationSeconds;
    }
  };
  /** One sample at a time, whoever asks (the ticker, or the first connect). */
  let sampleInProgress: Promise<void> | undefined;
  const sampleOnce = (): Promise<void> => {
    sampleInProgress ??= takeSample().finally(() => {
      sampleInProgress = undefined;
    });
    return sampleInProgress;
  };
  const ticker = startTicker({
    intervalMs: options.intervalMs,
    monotonic,
    timers: options.timers,
    onSkip: (skipped) => {
      sampling.skipped += skipped;
      overruns.failed(new Error(`${skipped} sample(s) skipped`));
    },
    task: sampleOnce,
  });

  return {
    stats: () => ({ ...sampling }),
    sampleEarly(stopping) {
      if (earlySampleScheduled || options.intervalMs <= EARLY_SAMPLE_MS) return;
      earlySampleScheduled = true;
      const wait = Math.max(0, options.primedAtMs + EARLY_SAMPLE_MS - monotonic());
      (options.timers ?? REAL_TIMERS).setTimeout(
        () => {
          if (!stopping() && sampling.taken + sampling.failed === 0) void sampleOnce();
        },
        Math.max(wait, EARLY_SAMPLE_MS / 2),
      );
    },
    stop: () => ticker.stop(),
  };
}
