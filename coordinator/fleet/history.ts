// Bounded per-node history of CPU and memory use: raw points for the last few minutes, one
// min/avg/max bucket per minute beyond that, up to an hour. Fixed-size typed-array rings: raw points in
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

export type Metric = "cpu" | "memory";

/** min/avg/max of one metric over a window; samples = 0 means no data (then min = avg = max = 0). */
export interface WindowStats {
  min: number;
  avg: number;
  max: number;
  samples: number;
}

// Bucket layout: BUCKET_FIELDS float64 per bucket.
const B_INDEX = 0;
const B_COUNT = 1;
const B_CPU = 2; // min, max, sum
const B_MEM = 5; // min, max, sum
const BUCKET_FIELDS = 8;

export class NodeHistory {
  readonly options: Readonly<HistoryOptions>;
  /** Raw ring in arrival order: time per point (NaN when empty), values cpu, mem interleaved. */
  #rawTime: Float64Array = new Float64Array(0);
  #rawValue: Float32Array = new Float32Array(0);
  #cursor = 0;
  #count = 0;
  #newestMs = Number.NEGATIVE_INFINITY;
  #buckets: Float64Array;
  #intervalMs = 0;

  constructor(intervalMs: number, options: Readonly<HistoryOptions> = DEFAULT_HISTORY_OPTIONS) {
    this.options = options;
    this.#buckets = new Float64Array(options.bucketCount * BUCKET_FIELDS);
    for (let i = 0; i < options.bucketCount; i++) this.#buckets[i * BUCKET_FIELDS + B_INDEX] = -1;
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
    this.#rawValue = new Float32Array(capacity * 2);
    this.#cursor = 0;
    this.#count = 0;
  }

  /** Raw points the ring holds at most. */
  get rawCapacity(): number {
    return this.#rawTime.length;
  }

  /** Bytes held in typed arrays (the per-node cost that grows with the options). */
  get bytes(): number {
    return this.#rawTime.byteLength + this.#rawValue.byteLength + this.#buckets.byteLength;
  }

  /** Adds a sample taken at `timeMs`; one too old for both rings is ignored. */
  record(timeMs: number, cpuPercent: number, memoryPercent: number): void {
    if (!Number.isFinite(timeMs) || timeMs < 0) return;
    this.#recordRaw(timeMs, cpuPercent, memoryPercent);
    this.#recordBucket(timeMs, cpuPercent, memoryPercent);
  }

  /**
   * min/avg/max of `metric` over (now - windowMs, now]: from raw points when they cover the window,
   * otherwise from the minute buckets (whole minutes, so the window's first minute may be partial).
   */
  window(metric: Metric, now: number, windowMs: number): WindowStats {
    return windowMs <= this.options.rawWindowMs && this.#rawCovers(now - windowMs)
      ? this.#rawWindow(metric, now, windowMs)
      : this.#bucketWindow(metric, now, windowMs);
  }

  #recordRaw(timeMs: number, cpu: number, mem: number): void {
    if (timeMs <= this.#newestMs - this.options.rawWindowMs) return; // a replayed sample: buckets only
    if (timeMs > this.#newestMs) this.#newestMs = timeMs;
    const i = this.#cursor;
    this.#rawTime[i] = timeMs;
    this.#rawValue[2 * i] = cpu;
    this.#rawValue[2 * i + 1] = mem;
    this.#cursor = i + 1 === this.#rawTime.length ? 0 : i + 1;
    if (this.#count < this.#rawTime.length) this.#count++;
  }

  /** False when the ring is full and its oldest point is inside the window (a fast sampler). */
  #rawCovers(from: number): boolean {
    if (this.#count < this.#rawTime.length) return true;
    return this.#rawTime[this.#cursor] <= from;
  }

  #recordBucket(timeMs: number, cpu: number, mem: number): void {
    const { bucketMs, bucketCount } = this.options;
    const index = Math.floor(timeMs / bucketMs);
    const b = this.#buckets;
    const at = (index % bucketCount) * BUCKET_FIELDS;
    const held = b[at + B_INDEX];
    if (held > index) return; // the position holds a newer minute: this sample is over an hour old
    if (held < index) {
      b[at + B_INDEX] = index;
      b[at + B_COUNT] = 1;
      b[at + B_CPU] = cpu;
      b[at + B_CPU + 1] = cpu;
      b[at + B_CPU + 2] = cpu;
      b[at + B_MEM] = mem;
      b[at + B_MEM + 1] = mem;
      b[at + B_MEM + 2] = mem;
      return;
    }
    b[at + B_COUNT]++;
    if (cpu < b[at + B_CPU]) b[at + B_CPU] = cpu;
    if (cpu > b[at + B_CPU + 1]) b[at + B_CPU + 1] = cpu;
    b[at + B_CPU + 2] += cpu;
    if (mem < b[at + B_MEM]) b[at + B_MEM] = mem;
    if (mem > b[at + B_MEM + 1]) b[at + B_MEM + 1] = mem;
    b[at + B_MEM + 2] += mem;
  }

  #rawWindow(metric: Metric, now: number, windowMs: number): WindowStats {
    const from = now - windowMs;
    const offset = metric === "cpu" ? 0 : 1;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let samples = 0;
    const times = this.#rawTime;
    const values = this.#rawValue;
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      if (!(t > from && t <= now)) continue; // NaN (empty) fails too
      const v = values[2 * i + offset];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      samples++;
    }
    return stats(min, max, sum, samples);
  }

  #bucketWindow(metric: Metric, now: number, windowMs: number): WindowStats {
    const { bucketMs, bucketCount } = this.options;
    const first = Math.floor((now - windowMs) / bucketMs) + 1;
    const last = Math.floor(now / bucketMs);
    const field = metric === "cpu" ? B_CPU : B_MEM;
    const b = this.#buckets;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let samples = 0;
    for (let at = 0; at < bucketCount * BUCKET_FIELDS; at += BUCKET_FIELDS) {
      const index = b[at + B_INDEX];
      if (index < first || index > last) continue;
      if (b[at + field] < min) min = b[at + field];
      if (b[at + field + 1] > max) max = b[at + field + 1];
      sum += b[at + field + 2];
      samples += b[at + B_COUNT];
    }
    return stats(min, max, sum, samples);
  }
}

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
  ): void {
    let node = this.nodes.get(nodeId);
    if (node === undefined) {
      node = new NodeHistory(intervalMs, this.options);
      this.nodes.set(nodeId, node);
    } else node.setInterval(intervalMs);
    node.record(timeMs, cpuPercent, memoryPercent);
  }

  get(nodeId: string): NodeHistory | undefined {
    return this.nodes.get(nodeId);
  }

  delete(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
}
