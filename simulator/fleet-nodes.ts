// The simulator's virtual nodes: what each one holds, how the fleet of them is built (profiles, topics,
// connections, flappers), the control messages they publish, and the counts `stats()` reports.
import type { Backoff } from "../common/backoff.ts";
import {
  CONTRACT,
  createMessage,
  encode,
  type MessageOf,
  type PeerState,
  type Topics,
  timestamp,
} from "../proto/index.ts";
import { flappingNodes, flapRng } from "./flap.ts";
import type { SimulationStats } from "./fleet-sim.ts";
import type { LatencySummary } from "./latency.ts";
import { type MachineProfile, machineProfile } from "./machine.ts";
import { initialState, type MachineState } from "./model.ts";
import type { Rng } from "./rng.ts";
import { Connection, type OutgoingPublish, type WireHandler } from "./wire.ts";

export type Phase = "queued" | "connecting" | "online" | "retrying" | "down" | "stopped";

export interface SimNode {
  readonly profile: MachineProfile;
  readonly clientId: string;
  readonly birthTopic: string;
  readonly telemetryTopic: string;
  readonly statusTopic: string;
  readonly conn: Connection<SimNode>;
  phase: Phase;
  machine: MachineState;
  session: bigint;
  seq: number;
  everConnected: boolean;
  backoff: Backoff | undefined;
  /** Monotonic time to leave `retrying` or `down` (Infinity: until revived). */
  wakeAtMs: number;
  /** Packet ids of this connection's birth, ONLINE and final OFFLINE, 0 once acknowledged. */
  controlIds: [number, number, number];
  flap: { rng: Rng; dropAtMs: number; rebootOnReturn: boolean } | undefined;
}

/** Index of the final OFFLINE status in `controlIds`. */
export const FINAL = 2;

/** The fleet's counters since the start, as `stats()` reports them. */
export interface FleetCounters {
  /** Telemetry messages written to sockets. */
  published: number;
  /** Telemetry PUBACKs received (QoS 1). */
  acked: number;
  /** Telemetry in flight when its connection dropped: never acknowledged. */
  lost: number;
  /** Samples not published because the node's in-flight window was full or its socket backed up. */
  skipped: number;
  /** Node slots given up because the timer fell more than a whole interval behind. */
  lagged: number;
  /** Connections accepted (each announced with birth + ONLINE). */
  births: number;
  /** Connections accepted after a node's first one. */
  reconnects: number;
  /** Connection failures: refused, timeouts, socket errors, closes the simulator did not ask for. */
  errors: number;
}

/** `count` nodes from the seed (profiles, topics, machine state at `wallStartMs`), each with its Connection. */
export function createSimNodes(
  options: { count: number; seed: number; prefix: string; topics: Topics; wallStartMs: number },
  handler: WireHandler<SimNode>,
): SimNode[] {
  const { topics } = options;
  const nodes: SimNode[] = [];
  for (let index = 0; index < options.count; index++) {
    const profile = machineProfile(options.seed, index, options.prefix);
    const id = profile.nodeId;
    const node: SimNode = {
      profile,
      clientId: `k3s-fleet-agent-${id}`,
      birthTopic: topics.birth(id),
      telemetryTopic: topics.telemetry(id),
      statusTopic: topics.nodeStatus(id),
      conn: undefined as unknown as Connection<SimNode>,
      phase: "queued",
      machine: initialState(profile, options.wallStartMs, options.seed),
      session: 0n,
      seq: 0,
      everConnected: false,
      backoff: undefined,
      wakeAtMs: 0,
      controlIds: [0, 0, 0],
      flap: undefined,
    };
    (node as { conn: Connection<SimNode> }).conn = new Connection(node, handler);
    nodes.push(node);
  }
  return nodes;
}

/** Marks the seed's share `fraction` of the nodes as flappers and returns them. */
export function markFlappers(nodes: readonly SimNode[], seed: number, fraction: number): SimNode[] {
  return flappingNodes(seed, nodes.length, fraction).map((index) => {
    const node = nodes[index] as SimNode;
    node.flap = { rng: flapRng(seed, index), dropAtMs: Infinity, rebootOnReturn: false };
    return node;
  });
}

/** A birth or status publish, with the contract's QoS and retain flag. */
export function controlPublish<K extends "birth" | "nodeStatus">(
  kind: K,
  topic: string,
  message: MessageOf<K>,
): OutgoingPublish {
  return { topic, payload: encode(kind, message), qos: CONTRACT[kind].qos, retain: CONTRACT[kind].retain };
}

/** The node's status of its current session (also its Will). */
export function statusPublish(
  node: SimNode,
  state: PeerState,
  reason: string,
  nowMs: number,
): OutgoingPublish {
  return controlPublish(
    "nodeStatus",
    node.statusTopic,
    createMessage("nodeStatus", { state, session: node.session, time: timestamp(nowMs), reason }),
  );
}

/** The fleet's state now: nodes per phase, QoS 1 publishes in flight, and the counters. */
export function fleetStats(
  nodes: readonly SimNode[],
  counters: FleetCounters,
  errorsByCode: Record<string, number>,
  ackLatencyMs: LatencySummary,
): SimulationStats {
  const phases: Record<Phase, number> = {
    queued: 0,
    connecting: 0,
    online: 0,
    retrying: 0,
    down: 0,
    stopped: 0,
  };
  let inflight = 0;
  for (const node of nodes) {
    phases[node.phase] += 1;
    inflight += node.conn.inflight;
  }
  return {
    nodes: nodes.length,
    connected: phases.online,
    connecting: phases.connecting,
    waiting: phases.queued + phases.retrying,
    down: phases.down,
    ...counters,
    inflight,
    errorsByCode: { ...errorsByCode },
    ackLatencyMs,
  };
}
