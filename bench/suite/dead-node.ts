// Benchmark 2: dead-node detection with N nodes connected at a 5 s keepalive. Two kinds of death:
//  - crash: `Simulation.kill()` destroys the node's socket without DISCONNECT. The kernel still closes the
//    TCP connection (FIN), so the broker sees it at once and publishes the Will: an agent process that died.
//  - silent: the victims' whole simulator process is frozen with SIGSTOP. Their sockets stay open and
//    nothing more is sent, as with a power cut or a pulled cable: only the broker's keepalive (1.5 × 5 s
//    after the last packet) notices, then publishes the Will.
// Per node: kill time (Date.now() in the simulator, or in the suite right before SIGSTOP) → the Will
// applied to fleet state (Date.now() in the coordinator) and → the first 100 ms poll of nodeHealth saying
// STALE / OFFLINE (what the next report shows).
import { figuresOf, type LatencyFigures } from "./harness.ts";
import type { OfflineWatchResult } from "./protocol.ts";
import type { CoordinatorRig, SimFleet } from "./rig.ts";

export interface DeathFigures {
  kind: "crash" | "silent";
  killed: number;
  /** Killed nodes that were not ONLINE in fleet state just before the kill (e.g. ingest backlog): left out. */
  notOnlineBefore: number;
  /** Nodes whose OFFLINE was seen before the timeout. */
  detected: number;
  /** Seconds from kill to OFFLINE in the polled fleet state. */
  offlineS: LatencyFigures;
  /** Seconds from kill to the Will applied. */
  willS: LatencyFigures;
  /** Seconds from kill to STALE (silent deaths only: missed telemetry intervals). */
  staleS: LatencyFigures;
  timeoutS: number;
}

function figures(
  kind: DeathFigures["kind"],
  killedAt: Record<string, number>,
  watch: OfflineWatchResult,
  timeoutS: number,
  notOnline: string[],
): DeathFigures {
  const offline: number[] = [];
  const will: number[] = [];
  const stale: number[] = [];
  for (const [id, at] of Object.entries(killedAt)) {
    if (notOnline.includes(id)) continue;
    const w = watch.nodes[id];
    if (w?.offlineAt !== undefined) offline.push((w.offlineAt - at) / 1000);
    if (w?.willAt !== undefined) will.push((w.willAt - at) / 1000);
    if (w?.staleAt !== undefined) stale.push((w.staleAt - at) / 1000);
  }
  return {
    kind,
    killed: Object.keys(killedAt).length,
    notOnlineBefore: notOnline.length,
    detected: offline.length,
    offlineS: figuresOf(offline),
    willS: figuresOf(will),
    staleS: figuresOf(stale),
    timeoutS,
  };
}

/** K distinct node ids of `fleet`, spread by a fixed stride so runs pick the same ones. */
export function pickNodes(nodes: number, k: number, prefix = "sim"): string[] {
  const stride = Math.max(1, Math.floor(nodes / k));
  return Array.from(
    { length: Math.min(k, nodes) },
    (_, i) => `${prefix}-${String(((i * stride + 7919 * i) % nodes) + 1).padStart(5, "0")}`,
  ).filter((id, i, all) => all.indexOf(id) === i);
}

export async function crashDeaths(
  rig: CoordinatorRig,
  fleet: SimFleet,
  k: number,
  timeoutS = 20,
): Promise<DeathFigures> {
  const ids = pickNodes(fleet.options.nodes, k);
  const { notOnline } = await rig.child.request<{ notOnline: string[] }>(
    "watchStart",
    { nodeIds: ids },
    10_000,
  );
  const { at } = await fleet.kill(ids);
  const watch = await rig.child.request<OfflineWatchResult>(
    "watchResult",
    { timeoutMs: timeoutS * 1000 },
    timeoutS * 1000 + 10_000,
  );
  return figures("crash", at, watch, timeoutS, notOnline);
}

export async function silentDeaths(
  rig: CoordinatorRig,
  victims: SimFleet,
  timeoutS = 25,
): Promise<DeathFigures> {
  const ids = Array.from(
    { length: victims.options.nodes },
    (_, i) => `victim-${String(i + 1).padStart(5, "0")}`,
  );
  const { notOnline } = await rig.child.request<{ notOnline: string[] }>(
    "watchStart",
    { nodeIds: ids },
    10_000,
  );
  const at = Date.now();
  victims.child.signal("SIGSTOP");
  try {
    const watch = await rig.child.request<OfflineWatchResult>(
      "watchResult",
      { timeoutMs: timeoutS * 1000 },
      timeoutS * 1000 + 10_000,
    );
    return figures("silent", Object.fromEntries(ids.map((id) => [id, at])), watch, timeoutS, notOnline);
  } finally {
    victims.child.signal("SIGKILL");
  }
}
