// A minimal node over plain mqtt.js, speaking the contract by hand: a Will, a birth, an ONLINE status and
// telemetry with the seqs the test chooses. For faults where the real agent would do more than wanted.
import mqtt, { type MqttClient } from "mqtt";
import { contractPublish, type RawPublish } from "../../mqtt/link.ts";
import { createMessage, PeerState, timestamp, topicsFor } from "../../proto/index.ts";

export interface PlainNode {
  readonly client: MqttClient;
  /** Retained birth (naming the connection's keepalive, if one was given) then ONLINE status for `session`. */
  announce(intervalMs: number): Promise<void>;
  /** One telemetry message; resolves on its PUBACK. */
  telemetry(seq: bigint): Promise<void>;
  /** Drops the connection without DISCONNECT (the broker then sends the Will, if it is still alive). */
  destroy(): void;
}

export async function connectPlainNode(
  url: string,
  root: string,
  nodeId: string,
  session = 1n,
  options: { keepaliveSeconds?: number } = {},
): Promise<PlainNode> {
  const topics = topicsFor(root);
  const at = () => timestamp(Date.now());
  const will = contractPublish(
    "nodeStatus",
    topics.nodeStatus(nodeId),
    createMessage("nodeStatus", { state: PeerState.OFFLINE, session, time: at() }),
  );
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: `k3s-fleet-agent-${nodeId}`,
    reconnectPeriod: 0,
    ...(options.keepaliveSeconds === undefined ? {} : { keepalive: options.keepaliveSeconds }),
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain },
  });
  const send = async (p: RawPublish) => {
    await client.publishAsync(p.topic, Buffer.from(p.payload), { qos: p.qos, retain: p.retain });
  };
  return {
    client,
    async announce(intervalMs) {
      const keepaliveSeconds = options.keepaliveSeconds ?? 0;
      const birth = createMessage("birth", { nodeId, session, intervalMs, keepaliveSeconds, time: at() });
      await send(contractPublish("birth", topics.birth(nodeId), birth));
      const online = createMessage("nodeStatus", { state: PeerState.ONLINE, session, time: at() });
      await send(contractPublish("nodeStatus", topics.nodeStatus(nodeId), online));
    },
    telemetry: (seq) =>
      send(
        contractPublish(
          "telemetry",
          topics.telemetry(nodeId),
          createMessage("telemetry", { session, seq, time: at() }),
        ),
      ),
    destroy() {
      client.stream.destroy();
      client.end(true);
    },
  };
}
