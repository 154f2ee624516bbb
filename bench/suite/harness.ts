// Shared pieces of the benchmark suite: process CPU/RSS from /proc, an exact millisecond histogram that
// crosses IPC, percentiles, machine facts, load average, child processes with request/reply over IPC,
// and markdown tables. No benchmark logic here.
import { type ChildProcess, execFileSync, fork, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// --- /proc sampling ---------------------------------------------------------------------------------------

let clockTicks: number | undefined;
/** Kernel clock ticks per second (utime/stime unit in /proc/<pid>/stat). */
export function clkTck(): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return clockTicks;
}

export interface ProcSample {
  /** performance.now() when read. */
  at: number;
  /** utime + stime of all the process's threads, in clock ticks. */
  ticks: number;
  rssKiB: number;
  /** Peak RSS of the process's life (VmHWM). */
  hwmKiB: number;
  /** Main thread (the event loop): ns spent runnable but waiting for a CPU (/proc/<pid>/schedstat). */
  waitNs: number;
}

/** CPU ticks and RSS of a live process; undefined when it is gone. */
export function procSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    let waitNs = Number.NaN;
    try {
      waitNs = Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
    } catch {}
    return {
      at: performance.now(),
      ticks: Number(fields[11]) + Number(fields[12]),
      rssKiB: kib("VmRSS"),
      hwmKiB: kib("VmHWM"),
      waitNs,
    };
  } catch {
    return undefined;
  }
}

/** Percent of one core between two samples of the same process. */
export function cpuPercentBetween(a: ProcSample | undefined, b: ProcSample | undefined): number {
  if (!a || !b || b.at <= a.at) return Number.NaN;
  return ((b.ticks - a.ticks) / clkTck() / ((b.at - a.at) / 1000)) * 100;
}

export interface ProcUsage {
  /** Percent of one core over the window (100 = one full core). */
  cpuPercent: number;
  rssEndMiB: number;
  /** Highest RSS seen by the once-a-second sampler during the window. */
  rssPeakMiB: number;
  /**
   * Share of the window the main thread spent runnable but waiting for a CPU (other processes had the
   * cores): high values mean the figures measure the machine's contention, not the process's cost.
   */
  cpuWaitPercent: number;
}

/** Samples named processes once a second over a window: CPU % over the window, RSS at the end and peak. */
export class ProcWindow {
  readonly #pids: Record<string, number>;
  readonly #start = new Map<string, ProcSample | undefined>();
  readonly #peak = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: Record<string, number | undefined>) {
    this.#pids = Object.fromEntries(
      Object.entries(pids).filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0),
    );
    for (const [name, pid] of Object.entries(this.#pids)) {
      const s = procSample(pid);
      this.#start.set(name, s);
      this.#peak.set(name, s?.rssKiB ?? 0);
    }
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  #tick(): void {
    for (const [name, pid] of Object.entries(this.#pids)) {
      const s = procSample(pid);
      if (s && s.rssKiB > (this.#peak.get(name) ?? 0)) this.#peak.set(name, s.rssKiB);
    }
  }

  end(): Record<string, ProcUsage> {
    clearInterval(this.#timer);
    const out: Record<string, ProcUsage> = {};
    for (const [name, pid] of Object.entries(this.#pids)) {
      const s = procSample(pid);
      const peak = Math.max(this.#peak.get(name) ?? 0, s?.rssKiB ?? 0);
      const a = this.#start.get(name);
      out[name] = {
        cpuPercent: cpuPercentBetween(a, s),
        cpuWaitPercent: a && s ? ((s.waitNs - a.waitNs) / 1e6 / (s.at - a.at)) * 100 : Number.NaN,
        rssEndMiB: (s?.rssKiB ?? Number.NaN) / 1024,
        rssPeakMiB: peak / 1024,
      };
    }
    return out;
  }
}

// --- histograms and percentiles -----------------------------------------------------------------------------

const HISTOGRAM_MS = 120_000;

/** Serialised histogram: [ms, count] pairs of the non-empty buckets. */
export interface MsHistogramData {
  buckets: Array<[number, number]>;
  /** Samples above the last bucket (two minutes), and below zero (clocks disagree). */
  over: number;
  negative: number;
  max: number;
}

export interface LatencyFigures {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Whole milliseconds, one bucket each from 0 to two minutes: exact for ms-resolution clocks (both ends of
 * the end-to-end latency are `Date.now()`), constant memory, mergeable, and small over IPC.
 */
export class MsHistogram {
  readonly counts = new Uint32Array(HISTOGRAM_MS + 1);
  samples = 0;
  over = 0;
  negative = 0;
  max = Number.NEGATIVE_INFINITY;

  record(ms: number): void {
    this.samples++;
    if (ms > this.max) this.max = ms;
    if (ms < 0) {
      this.negative++;
      this.counts[0] = (this.counts[0] ?? 0) + 1;
      return;
    }
    const i = Math.round(ms);
    if (i > HISTOGRAM_MS) {
      this.over++;
      this.counts[HISTOGRAM_MS] = (this.counts[HISTOGRAM_MS] ?? 0) + 1;
      return;
    }
    this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  /** Smallest bucket value with at least q of the samples at or below it; NaN without samples. */
  quantile(q: number): number {
    if (this.samples === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.samples));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return i;
    }
    return HISTOGRAM_MS;
  }

  figures(): LatencyFigures {
    return {
      samples: this.samples,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.samples === 0 ? Number.NaN : this.max,
    };
  }

  toData(): MsHistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) buckets.push([i, c]);
    }
    return { buckets, over: this.over, negative: this.negative, max: this.max };
  }

  static fromData(data: MsHistogramData): MsHistogram {
    const h = new MsHistogram();
    for (const [ms, count] of data.buckets) {
      h.counts[ms] = count;
      h.samples += count;
    }
    h.over = data.over;
    h.negative = data.negative;
    h.max = data.max;
    return h;
  }
}

/** Nearest-rank quantile of an ascending array; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export function figuresOf(values: ArrayLike<number>): LatencyFigures {
  const sorted = Float64Array.from(values).sort();
  return {
    samples: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

// --- the machine ------------------------------------------------------------------------------------------

/** "1.23 1.10 0.98": the 1/5/15-minute load average. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memGiB: number;
  kernel: string;
  node: string;
  mosquitto: string;
  aedes: string;
  nofile: string;
}

export function machineFacts(): MachineFacts {
  const nproc = Number(spawnSync("nproc", { encoding: "utf8" }).stdout.trim()) || cpus().length;
  const mosquittoHelp = spawnSync("mosquitto", ["-h"], { encoding: "utf8" }).stdout ?? "";
  let aedes = "unknown";
  try {
    const pkg = new URL("../../node_modules/aedes/package.json", import.meta.url);
    aedes = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
  } catch {}
  return {
    nproc,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memGiB: totalmem() / 2 ** 30,
    kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
    node: process.version,
    mosquitto: /version (\S+)/.exec(mosquittoHelp)?.[1] ?? "not found",
    aedes,
    nofile: spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim(),
  };
}

// --- child processes ------------------------------------------------------------------------------------------

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface ChildOptions {
  /** Extra node flags (e.g. --cpu-prof). --expose-gc is always given. */
  execArgv?: string[];
  /** The child exits by itself after this long, whatever happens. */
  lifetimeMs: number;
  /** Inherit stderr (child logs) instead of discarding it. */
  verbose?: boolean;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
/** A frozen (SIGSTOPped) child cannot notice its parent is gone: kill every child when we exit. */
function trackChild(proc: ChildProcess): void {
  liveChildren.add(proc);
  proc.once("exit", () => liveChildren.delete(proc));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) {
      try {
        child.kill("SIGKILL");
      } catch {}
    }
  });
}

/** A benchmark child: a Node process serving named commands over IPC (see `serveCommands`). */
export class BenchChild {
  readonly name: string;
  readonly #proc: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited: Promise<void>;
  #stderrTail = "";
  #stopRequested = false;
  #crash: string | undefined;

  private constructor(name: string, proc: ChildProcess) {
    this.name = name;
    this.#proc = proc;
    this.#exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    proc.on("message", (m) => {
      const reply = m as Reply;
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${name}: ${reply.error}`));
    });
    proc.once("exit", (code, signal) => {
      if (!this.#stopRequested && signal !== "SIGKILL") {
        const error = /^\w*Error: .*$/m.exec(this.#stderrTail)?.[0];
        this.#crash = `${name} exited by itself (code ${code}, signal ${signal})${error ? `: ${error}` : ""}`;
      }
      for (const waiter of this.#pending.values()) {
        waiter.reject(
          new Error(`${name} exited (code ${code}, signal ${signal}) ${this.#stderrTail.slice(-2000)}`),
        );
      }
      this.#pending.clear();
    });
  }

  static async start(name: string, entry: URL, options: ChildOptions): Promise<BenchChild> {
    const proc = fork(entry, [String(options.lifetimeMs)], {
      execArgv: ["--expose-gc", ...(options.execArgv ?? [])],
      stdio: ["ignore", "inherit", options.verbose ? "inherit" : "pipe", "ipc"],
      // The child's own logs go to stderr; keep the tail for error messages.
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    trackChild(proc);
    const child = new BenchChild(name, proc);
    proc.stderr?.on("data", (d: Buffer) => {
      child.#stderrTail = (child.#stderrTail + d.toString()).slice(-8000);
    });
    await child.request("ping", {}, 30_000);
    return child;
  }

  get pid(): number {
    return this.#proc.pid ?? 0;
  }

  /** Set when the child exited without being asked to (a crash), with the error line from its stderr. */
  crash(): string | undefined {
    return this.#crash;
  }

  stderrTail(): string {
    return this.#stderrTail;
  }

  request<T>(command: string, args: object, timeoutMs: number): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: "${command}" did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      if (!this.#proc.connected) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new Error(`${this.name} is not running`));
        return;
      }
      this.#proc.send({ id, command, args });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill(signal);
  }

  /** Asks the child to stop cleanly ("stop" command), then kills it if it has not exited in time. */
  async close(timeoutMs = 15_000): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    this.#stopRequested = true;
    const stopped = this.request("stop", {}, timeoutMs).catch(() => undefined);
    await Promise.race([Promise.all([stopped, this.#exited]), sleep(timeoutMs)]);
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      this.#proc.kill("SIGKILL");
      await Promise.race([this.#exited, sleep(2000)]);
    }
  }
}

export type CommandHandlers = Record<string, (args: never) => unknown>;

/**
 * The child side: answers `{ id, command, args }` with `{ id, ok, result }`. "ping" is built in; "stop"
 * runs the given handler (if any), answers, and exits. The child also exits when its parent goes away or
 * when its lifetime (argv[2], ms) is over, so no benchmark process outlives the run.
 */
export function serveCommands(handlers: CommandHandlers): void {
  const lifetimeMs = Number(process.argv[2] ?? 0) || 20 * 60_000;
  setTimeout(() => {
    process.stderr.write(`bench child ${process.pid}: lifetime of ${lifetimeMs} ms is over, exiting\n`);
    process.exit(3);
  }, lifetimeMs).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message) => {
    const { id, command, args } = message as { id: number; command: string; args: object };
    const reply = (r: Omit<Reply, "id">, then?: () => void) => {
      if (process.connected) process.send?.({ id, ...r }, () => then?.());
      else then?.();
    };
    if (command === "ping") {
      reply({ ok: true, result: process.pid });
      return;
    }
    const handler = handlers[command] as ((a: object) => unknown) | undefined;
    if (!handler && command !== "stop") {
      reply({ ok: false, error: `unknown command ${command}` });
      return;
    }
    Promise.resolve()
      .then(() => handler?.(args))
      .then(
        (result) =>
          reply(
            { ok: true, result },
            command === "stop" ? () => setImmediate(() => process.exit(0)) : undefined,
          ),
        (error: unknown) =>
          reply(
            { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
            command === "stop" ? () => process.exit(1) : undefined,
          ),
      );
  });
}

// --- formatting -------------------------------------------------------------------------------------------

export function fmt(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function int(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return Math.round(n).toLocaleString("en");
}

export function mdTable(head: string[], rows: Array<Array<string | number>>, align?: string[]): string {
  const sep = head.map((_, i) => align?.[i] ?? "---");
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(head), line(sep), ...rows.map(line)].join("\n");
}

/** UTC time of day, "07:12:33". */
export function clock(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(11, 19);
}
