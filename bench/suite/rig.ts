// The test rig every network benchmark uses: a coordinator child (with the embedded aedes broker in it, or
// against a Mosquitto process), simulator children, and one measured window between them.
import {
  BenchChild,
  type LatencyFigures,
  loadAverage,
  MsHistogram,
  type ProcUsage,
  ProcWindow,
  sleep,
} from "./harness.ts";
import { type BenchMosquitto, startBenchMosquitto } from "./mosquitto.ts";
import type {
  CoordinatorStart,
  LossCheck,
  MemoryFigures,
  SimulatorStart,
  SimWindow,
  WindowCounts,
} from "./protocol.ts";

export type BrokerKind = "aedes" | "mosquitto";
export const TOPIC_ROOT = "bench/v1";

export interface RigOptions {
  broker: BrokerKind;
  /** Every child exits by itself after this long. */
  lifetimeMs: number;
  /** Node flags for the coordinator child, e.g. ["--cpu-prof", "--cpu-prof-dir=…"]. */
  coordinatorExecArgv?: string[];
  /** Children's stderr to ours. */
  verbose?: boolean;
  /** Sampling interval the coordinator assumes before a birth; the simulator's births say 1 s anyway. */
  defaultIntervalMs?: number;
  reportIntervalMs?: number;
}

/** A running coordinator (and its broker) under test. */
export class CoordinatorRig {
  readonly broker: BrokerKind;
  readonly child: BenchChild;
  readonly brokerUrl: string;
  readonly mosquitto: BenchMosquitto | undefined;
  readonly options: RigOptions;
  /** After start and a forced GC, before any virtual node exists. */
  readonly baseline: MemoryFigures;

  private constructor(
    options: RigOptions,
    child: BenchChild,
    brokerUrl: string,
    mosquitto: BenchMosquitto | undefined,
    baseline: MemoryFigures,
  ) {
    this.options = options;
    this.broker = options.broker;
    this.child = child;
    this.brokerUrl = brokerUrl;
    this.mosquitto = mosquitto;
    this.baseline = baseline;
  }

  static async start(options: RigOptions): Promise<CoordinatorRig> {
    const mosquitto = options.broker === "mosquitto" ? await startBenchMosquitto() : undefined;
    let child: BenchChild | undefined;
    try {
      child = await BenchChild.start("coordinator", new URL("./coordinator-child.ts", import.meta.url), {
        lifetimeMs: options.lifetimeMs,
        execArgv: options.coordinatorExecArgv,
        verbose: options.verbose,
      });
      const start: CoordinatorStart = {
        embedded: options.broker === "aedes",
        brokerUrl: mosquitto?.url,
        topicRoot: TOPIC_ROOT,
        reportIntervalMs: options.reportIntervalMs ?? 30_000,
        staleAfterIntervals: 3,
        offlineAfterIntervals: 12,
        defaultIntervalMs: options.defaultIntervalMs ?? 5_000,
      };
      const started = await child.request<{ brokerUrl: string }>("start", start, 30_000);
      const baseline = await child.request<MemoryFigures>("memory", {}, 30_000);
      return new CoordinatorRig(options, child, started.brokerUrl, mosquitto, baseline);
    } catch (error) {
      await child?.close();
      await mosquitto?.stop();
      throw error;
    }
  }

  memory(): Promise<MemoryFigures> {
    return this.child.request<MemoryFigures>("memory", {}, 60_000);
  }

  /** Whether the coordinator child died on its own (crash) before it was asked to stop, and why. */
  crashed(): string | undefined {
    return this.child.crash();
  }

  async close(): Promise<void> {
    await this.child.close(20_000);
    // Mosquitto logs its warnings (e.g. outgoing messages dropped for a slow subscriber): show them.
    const log = this.mosquitto?.output().trim();
    if (this.options.verbose && log) process.stderr.write(`mosquitto log (tail):\n${log}\n`);
    await this.mosquitto?.stop();
  }
}

export interface FleetOptions {
  nodes: number;
  intervalMs: number;
  keepaliveSeconds: number;
  /** Connections per second, over all simulator processes. */
  connectRate: number;
  prefix?: string;
  seed?: number;
  /**
   * Simulator processes to split the nodes across (default 1): one process tops out near 19,000 msg/s
   * here. With more than one, process i names its nodes `{prefix}{i}-NNNNN`.
   */
  processes?: number;
}

/** N virtual nodes in one or more simulator children, all connected. */
export class SimFleet {
  readonly children: readonly BenchChild[];
  /** Node-id prefix of each child, in the same order. */
  readonly prefixes: readonly string[];
  readonly options: FleetOptions;
  readonly connectSeconds: number;
  readonly connectErrors: number;

  private constructor(
    children: BenchChild[],
    prefixes: string[],
    options: FleetOptions,
    connectSeconds: number,
    errors: number,
  ) {
    this.children = children;
    this.prefixes = prefixes;
    this.options = options;
    this.connectSeconds = connectSeconds;
    this.connectErrors = errors;
  }

  /** The first (with one process, the only) simulator child. */
  get child(): BenchChild {
    return this.children[0] as BenchChild;
  }

  static async start(rig: CoordinatorRig, options: FleetOptions): Promise<SimFleet> {
    const processes = Math.max(1, options.processes ?? 1);
    const prefix = options.prefix ?? "sim";
    const prefixes = Array.from({ length: processes }, (_, i) =>
      processes === 1 ? prefix : `${prefix}${i + 1}`,
    );
    const shares = prefixes.map((_, i) => Math.floor((options.nodes + i) / processes));
    const started = await Promise.allSettled(
      prefixes.map((p, i) =>
        startSimChild(rig, {
          ...options,
          nodes: shares[i] ?? 0,
          connectRate: options.connectRate / processes,
          prefix: p,
          seed: (options.seed ?? 42) + i,
        }),
      ),
    );
    const children = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) {
      await Promise.all(children.map((c) => c.child.close()));
      throw failed.reason;
    }
    return new SimFleet(
      children.map((c) => c.child),
      prefixes,
      options,
      Math.max(...children.map((c) => c.seconds)),
      children.reduce((sum, c) => sum + c.errors, 0),
    );
  }

  /** Kills nodes abruptly, each in the child that runs it. */
  async kill(nodeIds: string[]): Promise<{ at: Record<string, number> }> {
    const at: Record<string, number> = {};
    for (const [i, child] of this.children.entries()) {
      const own = nodeIds.filter((id) => id.startsWith(`${this.prefixes[i]}-`));
      if (own.length === 0) continue;
      const reply = await child.request<{ at: Record<string, number> }>("kill", { nodeIds: own }, 30_000);
      Object.assign(at, reply.at);
    }
    return { at };
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.close(30_000)));
  }
}

async function startSimChild(
  rig: CoordinatorRig,
  options: FleetOptions & { prefix: string },
): Promise<{ child: BenchChild; seconds: number; errors: number }> {
  const child = await BenchChild.start(
    `simulator(${options.prefix})`,
    new URL("./simulator-child.ts", import.meta.url),
    { lifetimeMs: rig.options.lifetimeMs, verbose: rig.options.verbose },
  );
  try {
    const start: SimulatorStart = {
      brokerUrl: rig.brokerUrl,
      nodes: options.nodes,
      intervalMs: options.intervalMs,
      keepaliveSeconds: options.keepaliveSeconds,
      connectRate: options.connectRate,
      topicRoot: TOPIC_ROOT,
      prefix: options.prefix,
      seed: options.seed ?? 42,
    };
    await child.request("start", start, 30_000);
    const timeoutMs = (options.nodes / options.connectRate) * 1000 + 30_000;
    const connected = await child.request<{
      all: boolean;
      seconds: number;
      connected: number;
      errors: number;
    }>("waitConnected", { timeoutMs }, timeoutMs + 10_000);
    if (!connected.all) {
      throw new Error(
        `only ${connected.connected} of ${options.nodes} virtual nodes connected in ${connected.seconds.toFixed(1)} s (${connected.errors} errors)`,
      );
    }
    return { child, seconds: connected.seconds, errors: connected.errors };
  } catch (error) {
    await child.close();
    throw error;
  }
}

/** One window's figures from several simulator children, as if from one. */
function mergeSimWindows(windows: SimWindow[]): SimWindow {
  const sum = (pick: (w: SimWindow) => number) => windows.reduce((total, w) => total + pick(w), 0);
  const errorsByCode: Record<string, number> = {};
  for (const w of windows) {
    for (const [code, n] of Object.entries(w.errorsByCode))
      errorsByCode[code] = (errorsByCode[code] ?? 0) + n;
  }
  return {
    expected: windows.flatMap((w) => w.expected),
    published: sum((w) => w.published),
    // The children's windows open and close together (requests sent at once); the longest is the window.
    seconds: Math.max(...windows.map((w) => w.seconds)),
    skipped: sum((w) => w.skipped),
    lagged: sum((w) => w.lagged),
    lostInFlight: sum((w) => w.lostInFlight),
    errors: sum((w) => w.errors),
    errorsByCode,
    ackP99Ms: Math.max(...windows.map((w) => w.ackP99Ms)),
    connected: sum((w) => w.connected),
  };
}

export interface WindowOptions {
  seconds: number;
  /** After the window, how long to wait for stragglers; what arrives later counts as late. */
  drainMs: number;
  /** When something is still missing after `drainMs`, keep asking this much longer before calling it lost. */
  lateMs?: number;
  /** Extra processes to sample, e.g. a second simulator. */
  extraPids?: Record<string, number>;
  /** Write a CPU profile of the coordinator child over the window here (inspector, 0.5 ms sampling). */
  profileFile?: string;
}

export interface WindowResult<T = undefined> {
  broker: BrokerKind;
  nodes: number;
  intervalMs: number;
  /** nodes × 1000 / interval. */
  offeredPerSecond: number;
  seconds: number;
  published: number;
  publishedPerSecond: number;
  /** Telemetry applied to fleet state during the window, per second of the coordinator's window. */
  receivedPerSecond: number;
  /** Seqs the simulator wrote during the window, and how many never reached fleet state. */
  expected: number;
  /** Never reached fleet state, even `lateMs` after the drain. */
  lost: number;
  /** Reached fleet state only after the drain (window end + drainMs): a backlog, not a loss. */
  late: number;
  lostExamples: string[];
  /** ms after the window end until every expected seq had arrived; NaN if some never did. */
  drainMs: number;
  /** Publish (telemetry `time`) → applied to fleet state, whole ms. */
  latencyMs: LatencyFigures;
  usage: Record<string, ProcUsage>;
  loadBefore: string;
  loadAfter: string;
  sim: Omit<SimWindow, "expected">;
  coordinator: WindowCounts;
  loss: Omit<LossCheck, "latency" | "examples">;
  during: T;
}

/**
 * One measured window: the coordinator starts tracking, then the simulator starts recording what it
 * publishes (so everything published in the window is published after tracking began), `seconds` later
 * both stop, the coordinator gets what was published and is asked until nothing is missing or `drainMs`
 * has passed. CPU % and RSS come from /proc over the window. `during` runs concurrently (e.g. scheduling).
 */
export async function measureWindow<T = undefined>(
  rig: CoordinatorRig,
  fleet: SimFleet,
  options: WindowOptions,
  during?: () => Promise<T>,
): Promise<WindowResult<T>> {
  const coordinator = rig.child;
  const simulators = fleet.children;
  if (options.profileFile) await coordinator.request("profileStart", {}, 10_000);
  await coordinator.request("windowStart", { ignorePrefix: "victim-" }, 10_000);
  const loadBefore = loadAverage();
  const proc = new ProcWindow({
    coordinator: coordinator.pid,
    ...Object.fromEntries(simulators.map((s, i) => [i === 0 ? "simulator" : `simulator${i + 1}`, s.pid])),
    mosquitto: rig.mosquitto?.pid,
    ...options.extraPids,
  });
  await Promise.all(simulators.map((s) => s.request("windowStart", {}, 10_000)));
  const duringPromise = during?.();
  await sleep(options.seconds * 1000);
  // Both ends at once: a busy simulator answering late must not stretch the coordinator's window.
  const [simWindows, coordWindow] = await Promise.all([
    Promise.all(simulators.map((s) => s.request<SimWindow>("windowEnd", {}, 30_000))),
    coordinator.request<WindowCounts>("windowEnd", {}, 30_000),
  ]);
  const simWindow = mergeSimWindows(simWindows);
  const usage = proc.end();
  if (options.profileFile) await coordinator.request("profileStop", { file: options.profileFile }, 60_000);
  const loadAfter = loadAverage();
  const duringResult = (await duringPromise) as T;

  const endedAt = performance.now();
  await coordinator.request("expect", { expected: simWindow.expected }, 60_000);
  let check = await coordinator.request<LossCheck>("lossCheck", { final: false }, 60_000);
  let drainMs = check.lost === 0 ? 0 : Number.NaN;
  while (check.lost > 0 && performance.now() - endedAt < options.drainMs) {
    await sleep(200);
    check = await coordinator.request<LossCheck>("lossCheck", { final: false }, 60_000);
    if (check.lost === 0) drainMs = performance.now() - endedAt;
  }
  const missingAfterDrain = check.lost;
  const lateUntil = performance.now() + (options.lateMs ?? 10_000);
  while (check.lost > 0 && performance.now() < lateUntil) {
    await sleep(500);
    check = await coordinator.request<LossCheck>("lossCheck", { final: false }, 60_000);
  }
  check = await coordinator.request<LossCheck>("lossCheck", { final: true }, 60_000);
  const { expected: _expected, ...sim } = simWindow;
  const { latency, examples, ...loss } = check;
  const { nodes, intervalMs } = fleet.options;
  return {
    broker: rig.broker,
    nodes,
    intervalMs,
    offeredPerSecond: (nodes * 1000) / intervalMs,
    seconds: simWindow.seconds,
    published: simWindow.published,
    publishedPerSecond: simWindow.published / simWindow.seconds,
    receivedPerSecond: coordWindow.received / coordWindow.seconds,
    expected: check.expected,
    lost: check.lost,
    late: missingAfterDrain - check.lost,
    lostExamples: examples,
    drainMs,
    latencyMs: MsHistogram.fromData(latency).figures(),
    usage,
    loadBefore,
    loadAfter,
    sim,
    coordinator: coordWindow,
    loss,
    during: duringResult,
  };
}
