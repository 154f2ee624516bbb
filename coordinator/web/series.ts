// A node's history as chart series: the last hour as one min/avg/max point per minute, and the raw
// window (the last five minutes by default) at the node's sampling interval. Read through
// NodeHistory.window, so the chart shows exactly what reports and the scheduler see. Pure.
import type { Metric, NodeHistory } from "../fleet/history.ts";

export interface MinuteSeries {
  /** End of each minute, epoch seconds (uPlot's x unit). */
  t: number[];
  cpu: { min: number[]; avg: number[]; max: number[] };
  mem: { min: number[]; avg: number[]; max: number[] };
}

export interface RawSeries {
  /** End of each sampling slot, epoch seconds. */
  t: number[];
  cpu: Array<number | null>;
  mem: Array<number | null>;
}

export interface NodeSeries {
  minutes: MinuteSeries;
  raw: RawSeries;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

export function nodeSeries(history: NodeHistory | undefined, now: number, intervalMs: number): NodeSeries {
  const minutes: MinuteSeries = {
    t: [],
    cpu: { min: [], avg: [], max: [] },
    mem: { min: [], avg: [], max: [] },
  };
  const raw: RawSeries = { t: [], cpu: [], mem: [] };
  if (history === undefined) return { minutes, raw };
  const { bucketMs, bucketCount, rawWindowMs } = history.options;
  const lastMinute = Math.floor(now / bucketMs);
  for (let m = lastMinute - bucketCount + 1; m <= lastMinute; m++) {
    const end = (m + 1) * bucketMs - 1;
    const cpu = history.window("cpu", end, bucketMs);
    if (cpu.samples === 0) continue;
    const mem = history.window("memory", end, bucketMs);
    minutes.t.push(Math.floor(Math.min(end, now) / 1000));
    push(minutes.cpu, cpu);
    push(minutes.mem, mem);
  }
  const step = Math.max(1000, intervalMs);
  const slots = Math.min(600, Math.floor(rawWindowMs / step));
  for (let i = slots - 1; i >= 0; i--) {
    const end = now - i * step;
    raw.t.push(Math.floor(end / 1000));
    raw.cpu.push(slot(history, "cpu", end, step));
    raw.mem.push(slot(history, "memory", end, step));
  }
  return { minutes, raw };
}

function push(
  into: { min: number[]; avg: number[]; max: number[] },
  w: { min: number; avg: number; max: number },
) {
  into.min.push(round1(w.min));
  into.avg.push(round1(w.avg));
  into.max.push(round1(w.max));
}

/** The average of the samples in (end - step, end], null when there are none (a gap in the chart). */
function slot(history: NodeHistory, metric: Metric, end: number, step: number): number | null {
  const w = history.window(metric, end, step);
  return w.samples === 0 ? null : round1(w.avg);
}
