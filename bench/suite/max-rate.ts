// Benchmark 1b: the highest telemetry rate the coordinator sustains without loss. One coordinator child;
// for each step a fresh simulator child with the same node count and a shorter interval (rate = nodes ×
// 1000 / interval), a short window, and a verdict; the search stops at the first failing step. Then one
// long window at the best passing rate. The nodes may be split across several simulator processes.
import { clock, sleep } from "./harness.ts";
import { type BrokerKind, CoordinatorRig, measureWindow, SimFleet, type WindowResult } from "./rig.ts";

export interface MaxRateOptions {
  broker: BrokerKind;
  nodes: number;
  /** Offered rates to try, ascending (messages/s). The simulator's shortest interval is 100 ms. */
  rates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  finalSeconds: number;
  drainMs: number;
  connectRate: number;
  /** Simulator processes per step (see FleetOptions.processes). */
  simulatorProcesses?: number;
  lifetimeMs: number;
  /** Latency p99 above this counts as lag (the coordinator is falling behind). */
  maxP99Ms: number;
  /** Milliseconds left in the suite's budget; steps that would not fit are not started. */
  remainingMs: () => number;
  verbose?: boolean;
}

export interface RateStep {
  at: string;
  intervalMs: number;
  offered: number;
  window?: WindowResult;
  pass: boolean;
  /** Why it failed, or "" when it passed. */
  why: string;
}

export interface MaxRateResult {
  broker: BrokerKind;
  nodes: number;
  steps: RateStep[];
  best?: number;
  final?: RateStep;
  /** The long window again at the next lower passing rate, when the one at `best` failed. */
  fallback?: RateStep;
  notes: string[];
}

export function verdict(w: WindowResult, maxP99Ms: number): string {
  const why: string[] = [];
  if (w.lost > 0) why.push(`${w.lost} lost`);
  if (w.late > 0) why.push(`${w.late} arrived only after the drain`);
  if (w.sim.lagged > 0 || w.sim.skipped > 0 || w.publishedPerSecond < 0.97 * w.offeredPerSecond) {
    why.push(
      `simulator did not offer the rate (${Math.round(w.publishedPerSecond)}/s published, ${w.sim.lagged} slots lagged, ${w.sim.skipped} skipped)`,
    );
  }
  if (w.receivedPerSecond < 0.95 * w.publishedPerSecond) {
    why.push(
      `received ${Math.round(w.receivedPerSecond)}/s < published ${Math.round(w.publishedPerSecond)}/s`,
    );
  }
  if (w.latencyMs.p99 > maxP99Ms) why.push(`p99 ${w.latencyMs.p99} ms > ${maxP99Ms} ms`);
  if (w.sim.errors > 0) why.push(`${w.sim.errors} connection errors`);
  return why.join("; ");
}

export async function runMaxRate(o: MaxRateOptions): Promise<MaxRateResult> {
  const result: MaxRateResult = { broker: o.broker, nodes: o.nodes, steps: [], notes: [] };
  const connectMs = (o.nodes / o.connectRate) * 1000;
  const stepCostMs = connectMs + (o.warmupSeconds + o.stepSeconds) * 1000 + o.drainMs + 8_000;
  const rig = await CoordinatorRig.start({ broker: o.broker, lifetimeMs: o.lifetimeMs, verbose: o.verbose });
  const step = async (rate: number, seconds: number): Promise<RateStep> => {
    const intervalMs = Math.round((o.nodes * 1000) / rate);
    const s: RateStep = {
      at: clock(),
      intervalMs,
      offered: (o.nodes * 1000) / intervalMs,
      pass: false,
      why: "",
    };
    let fleet: SimFleet | undefined;
    try {
      fleet = await SimFleet.start(rig, {
        nodes: o.nodes,
        intervalMs,
        keepaliveSeconds: 5,
        connectRate: o.connectRate,
        processes: o.simulatorProcesses,
      });
      await sleep(o.warmupSeconds * 1000);
      s.window = await measureWindow(rig, fleet, { seconds, drainMs: o.drainMs });
      s.why = verdict(s.window, o.maxP99Ms);
      s.pass = s.why === "";
    } catch (error) {
      s.why = `failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    } finally {
      await fleet?.close();
    }
    // Every node of the step stops at once: give a crash from that burst the time to show.
    await sleep(1000);
    const crash = rig.crashed();
    if (crash) s.why = `${s.why ? `${s.why}; ` : ""}${crash}`;
    return s;
  };
  try {
    for (const rate of o.rates) {
      if ((o.nodes * 1000) / rate < 100) {
        result.notes.push(
          `${rate}/s needs an interval under the simulator's 100 ms minimum at ${o.nodes} nodes`,
        );
        break;
      }
      const finalCostMs = o.finalSeconds > 0 ? connectMs + o.finalSeconds * 1000 + o.drainMs + 15_000 : 0;
      if (o.remainingMs() < stepCostMs + finalCostMs) {
        result.notes.push(`stopped before ${rate}/s: not enough time left in the suite's budget`);
        break;
      }
      const s = await step(rate, o.stepSeconds);
      result.steps.push(s);
      if (!s.pass) break;
      result.best = s.offered;
      if (rig.crashed()) break;
    }
    if (result.best !== undefined && !rig.crashed()) {
      // finalSeconds 0 (quick mode): the last passing step's own window is the sustained figure.
      result.final =
        o.finalSeconds > 0 ? await step(result.best, o.finalSeconds) : result.steps.findLast((s) => s.pass);
      // The long window failed: try the next lower rate that passed its step, if there is time for it.
      const lower = result.steps.filter((s) => s.pass && s.offered < (result.best ?? 0)).at(-1);
      const finalCostMs = connectMs + o.finalSeconds * 1000 + o.drainMs + 15_000;
      if (o.finalSeconds > 0 && result.final && !result.final.pass && lower && !rig.crashed()) {
        if (o.remainingMs() > finalCostMs) {
          result.fallback = await step(lower.offered, o.finalSeconds);
        } else
          result.notes.push(`no time left to try ${Math.round(lower.offered)}/s for ${o.finalSeconds} s`);
      }
    }
  } finally {
    await rig.close();
  }
  return result;
}
