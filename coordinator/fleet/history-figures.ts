// A telemetry message's disk and network figures for the history, read by the same rules as the live
// sample (fullest filesystem; the default interface's rates, else the sum over interfaces). Pure.
import type { NodeTelemetry } from "../../proto/index.ts";
import type { MoreFigures } from "./history.ts";
import { LiveSample } from "./live-sample.ts";

/** Reused for every message (ingest is synchronous): the figures are copied out before the next one. */
const scratch = new LiveSample();
const figures: MoreFigures = { diskPercent: 0, rxBytesPerSec: 0, txBytesPerSec: 0 };

/** The figures of `t`; the returned object is overwritten by the next call. */
export function moreFigures(t: NodeTelemetry): MoreFigures {
  scratch.update(t);
  figures.diskPercent = scratch.diskMaxUsePercent;
  figures.rxBytesPerSec = scratch.rxBytesPerSec;
  figures.txBytesPerSec = scratch.txBytesPerSec;
  return figures;
}
