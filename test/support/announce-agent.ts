// What an agent puts on the broker when it comes up, published by a test in its place: the retained birth
// (joined to a Kubernetes node by `k8sNodeName`), ONLINE, and one telemetry sample when given.
import type { MqttClient } from "mqtt";
import { encode, type Topics } from "../../proto/index.ts";
import { birth, type Sample, status, telemetry } from "./fleet-messages.ts";
import { until } from "./until.ts";

export interface AnnouncedAgent {
  nodeId: string;
  /** NodeBirth.k8s_node_name; default: the node id. */
  k8sNodeName?: string;
  session?: number;
  /** One sample (seq 1) after the status; none when unset. */
  sample?: Omit<Sample, "session" | "seq">;
  /** Publish ONLINE (default true). */
  online?: boolean;
  /** Retain the ONLINE status, as a real agent does (default false). */
  retainStatus?: boolean;
  /** NodeBirth.interval_ms (default 1 s). */
  intervalMs?: number;
  /** The birth's and the status's time (default 0). */
  timeMs?: number;
}

export async function announceAgent(
  client: MqttClient,
  topics: Topics,
  agent: AnnouncedAgent,
): Promise<void> {
  const session = agent.session ?? 1;
  const born = {
    ...birth({
      session,
      nodeId: agent.nodeId,
      ...(agent.intervalMs === undefined ? {} : { intervalMs: agent.intervalMs }),
      timeMs: agent.timeMs ?? 0,
    }),
    k8sNodeName: agent.k8sNodeName ?? agent.nodeId,
  };
  await client.publishAsync(topics.birth(agent.nodeId), Buffer.from(encode("birth", born)), {
    qos: 1,
    retain: true,
  });
  if (agent.online ?? true) {
    await client.publishAsync(
      topics.nodeStatus(agent.nodeId),
      Buffer.from(encode("nodeStatus", status("online", session, agent.timeMs ?? 0))),
      { qos: 1, retain: agent.retainStatus ?? false },
    );
  }
  if (agent.sample) {
    const sample = telemetry({ ...agent.sample, session, seq: 1 });
    await client.publishAsync(topics.telemetry(agent.nodeId), Buffer.from(encode("telemetry", sample)), {
      qos: 1,
    });
  }
}

/**
 * Nodes for a standalone coordinator's decisions: each announced with a 60 s interval (never stale during a
 * test), a retained ONLINE status and one sample (CPU 10 %, 40 %, 70 %, … by position), until the fleet holds them.
 */
export async function announceFleet(
  client: MqttClient,
  topics: Topics,
  nodeIds: readonly string[],
  fleetSize: () => number,
): Promise<void> {
  for (const [i, nodeId] of nodeIds.entries()) {
    await announceAgent(client, topics, {
      nodeId,
      k8sNodeName: "",
      intervalMs: 60_000,
      timeMs: Date.now(),
      retainStatus: true,
      sample: { cpu: 10 + 30 * i, memory: 30, timeMs: Date.now() },
    });
  }
  await until(() => fleetSize() === nodeIds.length, 10_000, `${nodeIds.length} nodes in the fleet`);
}
