// A fixed-size latency histogram: constant memory however many samples, quantiles good to ~9 % (four
// buckets per doubling from 0.05 ms to ~100 s). Pure data; the caller records milliseconds.

const MIN_MS = 0.05;
const PER_DOUBLING = 4;
const BUCKETS = PER_DOUBLING * 21; // 0.05 ms × 2^21 ≈ 105 s; slower samples land in the last bucket

export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #samples = 0;
  #max = 0;

  record(ms: number): void {
    const index = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(ms / MIN_MS) * PER_DOUBLING));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#samples += 1;
    if (ms > this.#max) this.#max = ms;
  }

  /** Upper bound of the bucket holding quantile `q`, capped at the largest sample; 0 without samples. */
  quantile(q: number): number {
    if (this.#samples === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#samples));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.#max, MIN_MS * 2 ** (i / PER_DOUBLING));
    }
    return this.#max;
  }

  summary(): LatencySummary {
    return {
      samples: this.#samples,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.#max,
    };
  }
}
