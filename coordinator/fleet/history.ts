// Bounded per-node history of CPU, memory and fullest-disk use and network rx/tx rates: raw points for
// the last few minutes, one min/avg/max bucket per minute beyond that, up to an hour. Fixed-size typed-array rings: raw points in
// arrival order (window queries filter by time, so late samples just count), buckets indexed by minute.
// Memory never grows after creation. Pure: time is a parameter.

export interface HistoryOptions {
  /** Raw points are kept this long (at the node's sampling interval). */
  rawWindowMs: number;
  /** Cap on raw points per node; a sampler too fast for it gets its short windows from buckets. */
  maxRawPoints: number;
  /** Width and number of the downsampled buckets: 60 × 1 min = one hour. */
  bucketMs: number;
  bucketCount: number;
}

export const DEFAULT_HISTORY_OPTIONS: Readonly<HistoryOptions> = {
  rawWindowMs: 5 * 60_000,
  maxRawPoints: 600,
  bucketMs: 60_000,
  bucketCount: 60,
};

/** cpu, memory: % in use; disk: the fullest filesystem's % in use; rx, tx: network bytes/s. */
export type Metric = "cpu" | "memory" | "disk" | "rx" | "tx";

/** Metrics in storage order. */
export const METRICS: readonly Metric[] = ["cpu", "memory", "disk", "rx", "tx"];
const M = METRICS.length;
const OFFSET: Readonly<Record<Metric, number>> = { cpu: 0, memory: 1, disk: 2, rx: 3, tx: 4 };

/**
 * The figures of a sample beyond CPU and memory. Network rates are the agent's: it turns its interface
 * counters into bytes/s and reports 0, never a negative or huge rate, over an interval where a counter
 * went backwards (reset at reboot, 32-bit wrap).
 */
export interface MoreFigures {
  diskPercent: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

/** min/avg/max of one metric over a window; samples = 0 means no data (then min = avg = max = 0). */
export interface WindowStats {
  min: number;
  avg: number;
  max: number;
  samples: number;
}

/** The sample being recorded, shared by every node (recording is synchronous): no allocation per sample. */
const SAMPLE = new Float64Array(M);

/** Reads a typed array inside its bounds (the loops below never leave them). */
const at = (a: Float64Array | Float32Array | Uint32Array, i: number): number => a[i] as number;

export class NodeHistory {
  readonly options: Readonly<HistoryOptions>;
  /** Raw ring in arrival order: time per point (NaN when empty), M values per point. */
  #rawTime: Float64Array = new Float64Array(0);
  #rawValue: Float32Array = new Float32Array(0);
  #cursor = 0;
  #count = 0;
  #newestMs = Number.NEGATIVE_INFINITY;
  /** Per bucket: the minute it holds (-1: none), its sample count, per metric min/max (float32) and sum. */
  #bucketMinute: Float64Array;
  #bucketSamples: Uint32Array;
  #bucketMinMax: Float32Array;
  #bucketSum: Float64Array;
  #intervalMs = 0;

  constructor(intervalMs: number, options: Readonly<HistoryOptions> = DEFAULT_HISTORY_OPTIONS) {
    this.options = options;
    const n = options.bucketCount;
    this.#bucketMinute = new Float64Array(n).fill(-1);
    this.#bucketSamples = new Uint32Array(n);
    this.#bucketMinMax = new Float32Array(n * M * 2);
    this.#bucketSum = new Float64Array(n * M);
    this.setInterval(intervalMs);
  }

  /**
   * Sizes the raw ring for a sampling interval: the raw window plus half again for jitter and late
   * samples, capped at maxRawPoints. A new size drops the raw points; the minute buckets stay.
   */
  setInterval(intervalMs: number): void {
    if (intervalMs === this.#intervalMs) return;
    this.#intervalMs = intervalMs;
    const { rawWindowMs, maxRawPoints } = this.options;
    const capacity = Math.min(maxRawPoints, Math.ceil((1.5 * rawWindowMs) / Math.max(1, intervalMs)) + 1);
    if (capacity === this.#rawTime.length) return;
    this.#rawTime = new Float64Array(capacity).fill(Number.NaN);
    this.#rawValue = new Float32Array(capacity * M);
    this.#cursor = 0;
    this.#count = 0;
  }

  /** Raw points the ring holds at most. */
  get rawCapacity(): number {
    return this.#rawTime.length;
  }

  /** Bytes held in typed arrays (the per-node cost that grows with the options). */
  get bytes(): number {
    return (
      this.#rawTime.byteLength +
      this.#rawValue.byteLength +
      this.#bucketMinute.byteLength +
      this.#bucketSamples.byteLength +
      this.#bucketMinMax.byteLength +
      this.#bucketSum.byteLength
    );
  }

  /**
   * Adds a sample taken at `timeMs`; one too old for both rings is ignored. Without `more` (or with a
   * non-finite figure in it) disk and network count as 0 for this sample.
   */
  record(timeMs: number, cpuPercent: number, memoryPercent: number, more?: MoreFigures): void {
    if (!Number.isFinite(timeMs) || timeMs < 0) return;
    const v = SAMPLE;
    v[0] = cpuPercent;
    v[1] = memoryPercent;
    v[2] = finite(more?.diskPercent);
    v[3] = finite(more?.rxBytesPerSec);
    v[4] = finite(more?.txBytesPerSec);
    this.#recordRaw(timeMs, v);
    this.#recordBucket(timeMs, v);
  }

  /**
   * min/avg/max of `metric` over (now - windowMs, now]: from raw points when they cover the window,
   * otherwise from the minute buckets (whole minutes, so the window's first minute may be partial).
   */
  window(metric: Metric, now: number, windowMs: number): WindowStats {
    return windowMs <= this.options.rawWindowMs && this.#rawCovers(now - windowMs)
      ? this.#rawWindow(OFFSET[metric], now, windowMs)
      : this.#bucketWindow(OFFSET[metric], now, windowMs);
  }

  #recordRaw(timeMs: number, v: Float64Array): void {
    if (timeMs <= this.#newestMs - this.options.rawWindowMs) return; // a replayed sample: buckets only
    if (timeMs > this.#newestMs) this.#newestMs = timeMs;
    const i = this.#cursor;
    this.#rawTime[i] = timeMs;
    this.#rawValue.set(v, i * M);
    this.#cursor = i + 1 === this.#rawTime.length ? 0 : i + 1;
    if (this.#count < this.#rawTime.length) this.#count++;
  }

  /** False when the ring is full and its oldest point is inside the window (a fast sampler). */
  #rawCovers(from: number): boolean {
    if (this.#count < this.#rawTime.length) return true;
    return at(this.#rawTime, this.#cursor) <= from;
  }

  #recordBucket(timeMs: number, v: Float64Array): void {
    const { bucketMs, bucketCount } = this.options;
    const minute = Math.floor(timeMs / bucketMs);
    const b = minute % bucketCount;
    const held = at(this.#bucketMinute, b);
    if (held > minute) return; // the position holds a newer minute: this sample is over an hour old
    const mm = this.#bucketMinMax;
    const sum = this.#bucketSum;
    if (held < minute) {
      this.#bucketMinute[b] = minute;
      this.#bucketSamples[b] = 1;
      for (let m = 0; m < M; m++) {
        const x = at(v, m);
        mm[(b * M + m) * 2] = x;
        mm[(b * M + m) * 2 + 1] = x;
        sum[b * M + m] = x;
      }
      return;
    }
    this.#bucketSamples[b] = at(this.#bucketSamples, b) + 1;
    for (let m = 0; m < M; m++) {
      const x = at(v, m);
      const k = (b * M + m) * 2;
      if (x < at(mm, k)) mm[k] = x;
      if (x > at(mm, k + 1)) mm[k + 1] = x;
      sum[b * M + m] = at(sum, b * M + m) + x;
    }
  }

  #rawWindow(offset: number, now: number, windowMs: number): WindowStats {
    const from = now - windowMs;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let samples = 0;
    const times = this.#rawTime;
    const values = this.#rawValue;
    for (let i = 0; i < times.length; i++) {
      const t = at(times, i);
      if (!(t > from && t <= now)) continue; // NaN (empty) fails too
      const v = at(values, i * M + offset);
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      samples++;
    }
    return stats(min, max, sum, samples);
  }

  #bucketWindow(offset: number, now: number, windowMs: number): WindowStats {
    const { bucketMs, bucketCount } = this.options;
    const first = Math.floor((now - windowMs) / bucketMs) + 1;
    const last = Math.floor(now / bucketMs);
    const mm = this.#bucketMinMax;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let samples = 0;
    for (let b = 0; b < bucketCount; b++) {
      const minute = at(this.#bucketMinute, b);
      if (minute < first || minute > last) continue;
      const k = (b * M + offset) * 2;
      if (at(mm, k) < min) min = at(mm, k);
      if (at(mm, k + 1) > max) max = at(mm, k + 1);
      sum += at(this.#bucketSum, b * M + offset);
      samples += at(this.#bucketSamples, b);
    }
    return stats(min, max, sum, samples);
  }
}

const finite = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) ? x : 0);

function stats(min: number, max: number, sum: number, samples: number): WindowStats {
  return samples === 0 ? { min: 0, avg: 0, max: 0, samples: 0 } : { min, avg: sum / samples, max, samples };
}

/** Histories of all nodes, created on a node's first sample. */
export class FleetHistory {
  readonly options: Readonly<HistoryOptions>;
  readonly nodes = new Map<string, NodeHistory>();

  constructor(options: Partial<HistoryOptions> = {}) {
    this.options = { ...DEFAULT_HISTORY_OPTIONS, ...options };
  }

  record(
    nodeId: string,
    intervalMs: number,
    timeMs: number,
    cpuPercent: number,
    memoryPercent: number,
    more?: MoreFigures,
  ): void {
    let node = this.nodes.get(nodeId);
    if (node === undefined) {
      node = new NodeHistory(intervalMs, this.options);
      this.nodes.set(nodeId, node);
    } else node.setInterval(intervalMs);
    node.record(timeMs, cpuPercent, memoryPercent, more);
  }

  get(nodeId: string): NodeHistory | undefined {
    return this.nodes.get(nodeId);
  }

  delete(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
}
