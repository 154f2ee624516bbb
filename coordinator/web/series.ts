// A node's history as chart series: the last hour as one min/avg/max point per minute, and the raw
// window (the last five minutes by default) at the node's sampling interval, for CPU, memory, the fullest
// disk (%) and network receive/transmit (bytes/s). Read through NodeHistory.window, so the chart shows
// exactly what reports and the scheduler see. Pure.
import type { Metric, NodeHistory } from "../fleet/history.ts";

export interface Band {
  min: number[];
  avg: number[];
  max: number[];
}

export interface MinuteSeries {
  /** End of each minute, epoch seconds (uPlot's x unit). */
  t: number[];
  cpu: Band;
  mem: Band;
  disk: Band;
  /** Bytes/s. */
  rx: Band;
  tx: Band;
}

export interface RawSeries {
  /** End of each sampling slot, epoch seconds. */
  t: number[];
  cpu: Array<number | null>;
  mem: Array<number | null>;
  disk: Array<number | null>;
  rx: Array<number | null>;
  tx: Array<number | null>;
}

export interface NodeSeries {
  minutes: MinuteSeries;
  raw: RawSeries;
}

/** Series key → history metric; percentages to 0.1, rates to whole bytes/s. */
const SERIES: ReadonlyArray<readonly [keyof Omit<RawSeries, "t">, Metric, (v: number) => number]> = [
  ["cpu", "cpu", (v) => Math.round(v * 10) / 10],
  ["mem", "memory", (v) => Math.round(v * 10) / 10],
  ["disk", "disk", (v) => Math.round(v * 10) / 10],
  ["rx", "rx", Math.round],
  ["tx", "tx", Math.round],
];

const band = (): Band => ({ min: [], avg: [], max: [] });

export function nodeSeries(history: NodeHistory | undefined, now: number, intervalMs: number): NodeSeries {
  const minutes: MinuteSeries = { t: [], cpu: band(), mem: band(), disk: band(), rx: band(), tx: band() };
  const raw: RawSeries = { t: [], cpu: [], mem: [], disk: [], rx: [], tx: [] };
  if (history === undefined) return { minutes, raw };
  const { bucketMs, bucketCount, rawWindowMs } = history.options;
  const lastMinute = Math.floor(now / bucketMs);
  for (let m = lastMinute - bucketCount + 1; m <= lastMinute; m++) {
    const end = (m + 1) * bucketMs - 1;
    if (history.window("cpu", end, bucketMs).samples === 0) continue;
    minutes.t.push(Math.floor(Math.min(end, now) / 1000));
    for (const [key, metric, round] of SERIES) {
      const w = history.window(metric, end, bucketMs);
      const into = minutes[key];
      into.min.push(round(w.min));
      into.avg.push(round(w.avg));
      into.max.push(round(w.max));
    }
  }
  const step = Math.max(1000, intervalMs);
  const slots = Math.min(600, Math.floor(rawWindowMs / step));
  for (let i = slots - 1; i >= 0; i--) {
    const end = now - i * step;
    raw.t.push(Math.floor(end / 1000));
    for (const [key, metric, round] of SERIES) {
      // The average of the samples in (end - step, end], null when there are none (a gap in the chart).
      const w = history.window(metric, end, step);
      raw[key].push(w.samples === 0 ? null : round(w.avg));
    }
  }
  return { minutes, raw };
}
