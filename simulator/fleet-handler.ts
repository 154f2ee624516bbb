// How the simulator's virtual nodes react to their connections: announce on connect (birth, then ONLINE),
// count PUBACKs and their latency, and on a close they did not ask for count the error and retry with backoff.
import type { Logger } from "pino";
import { AGENT_VERSION } from "../agent/version.ts";
import { createBackoff } from "../common/backoff.ts";
import { createMessage, PeerState } from "../proto/index.ts";
import { type FlapOptions, nextDrop } from "./flap.ts";
import { controlPublish, type FleetCounters, type SimNode, statusPublish } from "./fleet-nodes.ts";
import type { LatencyHistogram } from "./latency.ts";
import { birthInit } from "./machine.ts";
import type { ResolvedSimulationOptions } from "./options.ts";
import type { WireHandler } from "./wire.ts";

/** What a running simulation shares between its timer, its handler and its API. */
export interface FleetRun {
  stopping: boolean;
  ackLatency: LatencyHistogram;
  readonly counters: FleetCounters;
  readonly errorsByCode: Record<string, number>;
}

export interface FleetHandlerContext {
  run: FleetRun;
  o: ResolvedSimulationOptions;
  log: Logger;
  now: () => number;
  monotonic: () => number;
  flap: FlapOptions;
  /** Jitter for the reconnect backoff. */
  random: () => number;
  /** Nodes asleep until their `wakeAtMs` (a retry is added here). */
  waiting: Set<SimNode>;
}

export function fleetWireHandler(ctx: FleetHandlerContext): WireHandler<SimNode> {
  const { run, o, log, now, monotonic, flap, random, waiting } = ctx;
  const status = (node: SimNode, state: PeerState, reason: string) =>
    statusPublish(node, state, reason, now());
  return {
    connected(conn) {
      const node = conn.owner;
      if (run.stopping) {
        conn.disconnect();
        return;
      }
      node.phase = "online";
      run.counters.births += 1;
      if (node.everConnected) run.counters.reconnects += 1;
      node.everConnected = true;
      node.backoff?.reset();
      const t = monotonic();
      const birth = createMessage(
        "birth",
        birthInit(node.profile, {
          session: node.session,
          nowMs: now(),
          intervalMs: o.intervalMs,
          keepaliveSeconds: o.keepaliveSeconds,
          agentVersion: AGENT_VERSION,
          labels: o.labels,
        }),
      );
      // Birth, then ONLINE, then telemetry: subscribers learn the facts before the first sample.
      conn.batch(() => {
        node.controlIds[0] = Math.max(0, conn.publish(controlPublish("birth", node.birthTopic, birth), t));
        node.controlIds[1] = Math.max(0, conn.publish(status(node, PeerState.ONLINE, ""), t));
      });
      if (node.flap) node.flap.dropAtMs = nextDrop(node.flap.rng, t, flap);
      log.debug({ node: node.profile.nodeId, session: `${node.session}` }, "virtual node online");
    },
    acked(conn, packetId, sentAtMs) {
      const ids = conn.owner.controlIds;
      const which = ids.indexOf(packetId);
      if (which >= 0) {
        ids[which] = 0;
        return;
      }
      run.counters.acked += 1;
      run.ackLatency.record(monotonic() - sentAtMs);
    },
    closed(conn, error) {
      const node = conn.owner;
      const pendingControl = node.controlIds.filter((id) => id > 0).length;
      run.counters.lost += Math.max(0, conn.inflight - pendingControl);
      node.controlIds.fill(0);
      if (run.stopping) {
        node.phase = "stopped";
        return;
      }
      if (node.phase === "down") return; // killed on purpose
      const code = (error as { code?: string } | undefined)?.code ?? "K3SF_ERR_SIM_CLOSED";
      run.counters.errors += 1;
      run.errorsByCode[code] = (run.errorsByCode[code] ?? 0) + 1;
      if (run.errorsByCode[code] === 1) {
        log.warn(
          { err: error, code, node: node.profile.nodeId },
          "virtual node lost its connection (first of its kind)",
        );
      }
      node.backoff ??= createBackoff(o.backoff, random);
      node.phase = "retrying";
      node.wakeAtMs = monotonic() + node.backoff.next();
      waiting.add(node);
    },
  };
}
