// Benchmark 1a: ingest at N virtual nodes × 1 Hz through the embedded aedes broker or Mosquitto.
// Fresh coordinator and simulator children per run; warm-up, one measured window, memory after a forced GC.
import { clock, sleep } from "./harness.ts";
import type { MemoryFigures } from "./protocol.ts";
import { type BrokerKind, CoordinatorRig, measureWindow, SimFleet, type WindowResult } from "./rig.ts";

export interface IngestRun<E = undefined> {
  broker: BrokerKind;
  nodes: number;
  intervalMs: number;
  windowSeconds: number;
  warmupSeconds: number;
  drainMs: number;
  connectRate: number;
  keepaliveSeconds: number;
  lifetimeMs: number;
  verbose?: boolean;
  coordinatorExecArgv?: string[];
  /** The coordinator's report interval (default 30 s, as `k3s-fleet coordinator`). */
  reportIntervalMs?: number;
  /** CPU profile of the coordinator child over the measured window. */
  profileFile?: string;
  /** Also connect this many "victim-" nodes in a simulator process of their own (silent-death test). */
  victims?: number;
  /** Runs after the window and the memory reading, with everything still connected (dead-node, …). */
  extras?: (rig: CoordinatorRig, fleet: SimFleet, victims: SimFleet | undefined) => Promise<E>;
}

export interface IngestResult<E = undefined> extends WindowResult {
  startedAt: string;
  connectSeconds: number;
  connectErrors: number;
  memoryBaseline: MemoryFigures;
  memoryAfter: MemoryFigures;
  /** (RSS after − RSS before any node) / N, both after forced GCs in the coordinator child. */
  rssPerNodeKiB: number;
  heapPerNodeKiB: number;
  extras: E;
  /** What happened to the coordinator when every virtual node stopped at once. */
  teardown: string;
}

export async function runIngest<E = undefined>(run: IngestRun<E>): Promise<IngestResult<E>> {
  const startedAt = clock();
  const rig = await CoordinatorRig.start({
    broker: run.broker,
    lifetimeMs: run.lifetimeMs,
    verbose: run.verbose,
    coordinatorExecArgv: run.coordinatorExecArgv,
    reportIntervalMs: run.reportIntervalMs,
  });
  try {
    const fleet = await SimFleet.start(rig, {
      nodes: run.nodes,
      intervalMs: run.intervalMs,
      keepaliveSeconds: run.keepaliveSeconds,
      connectRate: run.connectRate,
    });
    let result: IngestResult<E>;
    let victims: SimFleet | undefined;
    try {
      if (run.victims) {
        victims = await SimFleet.start(rig, {
          nodes: run.victims,
          intervalMs: run.intervalMs,
          keepaliveSeconds: run.keepaliveSeconds,
          connectRate: run.connectRate,
          prefix: "victim",
          seed: 7,
        });
      }
      await sleep(run.warmupSeconds * 1000);
      const window = await measureWindow(rig, fleet, {
        seconds: run.windowSeconds,
        drainMs: run.drainMs,
        profileFile: run.profileFile,
      });
      const memoryAfter = await rig.memory();
      const extras = (await run.extras?.(rig, fleet, victims)) as E;
      const base = rig.baseline;
      result = {
        ...window,
        startedAt,
        connectSeconds: fleet.connectSeconds,
        connectErrors: fleet.connectErrors,
        memoryBaseline: base,
        memoryAfter,
        rssPerNodeKiB: (memoryAfter.rss - base.rss) / run.nodes / 1024,
        heapPerNodeKiB:
          (memoryAfter.heapUsed + memoryAfter.arrayBuffers - base.heapUsed - base.arrayBuffers) /
          run.nodes /
          1024,
        extras,
        teardown: "",
      };
    } finally {
      await victims?.close();
      await fleet.close();
    }
    // Every node's OFFLINE status arrives at once when the simulator stops: did the coordinator survive it?
    await sleep(1000);
    result.teardown = rig.crashed() ?? "coordinator survived the simulator's stop";
    return result;
  } finally {
    await rig.close();
  }
}
