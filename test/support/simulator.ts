// Test support for the simulator's socket tests: an in-process aedes on a loopback port, and a watcher that
// subscribes like a coordinator would and decodes what it sees. Not used by the simulator itself.
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import {
  decode,
  type MessageOf,
  type NodeTopicKind,
  PeerState,
  parseTopic,
  type TopicKind,
  timestampMs,
} from "../../proto/index.ts";

export interface TestBroker {
  url: string;
  broker: Aedes;
  close(): Promise<void>;
}

export async function startAedes(options: Partial<AedesOptions> = {}): Promise<TestBroker> {
  const broker = await Aedes.createBroker(options);
  const server: Server = createServer(broker.handle);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Seen =
  | { kind: "birth"; nodeId: string; retain: boolean; message: MessageOf<"birth"> }
  | { kind: "telemetry"; nodeId: string; retain: boolean; message: MessageOf<"telemetry">; arrivedMs: number }
  | { kind: "nodeStatus"; nodeId: string; retain: boolean; message: MessageOf<"nodeStatus"> };

export interface Watcher {
  seen: Seen[];
  undecodable: number;
  close(): Promise<void>;
}

/** Subscribes to every node topic under `root` (retained messages included) and decodes what arrives. */
export async function watchNodes(url: string, root: string): Promise<Watcher> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: `watch-${process.pid}-${Math.random().toString(36).slice(2)}`,
  });
  const watcher: Watcher = {
    seen: [],
    undecodable: 0,
    close: () => client.endAsync(),
  };
  client.on("message", (topic, payload, packet) => {
    const parsed = parseTopic(root, topic);
    if (!parsed.ok || !("nodeId" in parsed.topic)) return;
    const kind: NodeTopicKind = parsed.topic.kind as NodeTopicKind;
    const result = decode(kind as TopicKind, payload);
    if (!result.ok) {
      watcher.undecodable += 1;
      return;
    }
    watcher.seen.push({
      kind,
      nodeId: parsed.topic.nodeId,
      retain: packet.retain,
      message: result.message,
      arrivedMs: Date.now(),
    } as Seen);
  });
  await client.subscribeAsync(`${root}/node/+/+`, { qos: 1 });
  return watcher;
}

export const telemetryOf = (seen: readonly Seen[], nodeId: string) =>
  seen.flatMap((s) => (s.kind === "telemetry" && s.nodeId === nodeId ? [s.message] : []));

export const statusesOf = (seen: readonly Seen[], nodeId: string) =>
  seen.flatMap((s) => (s.kind === "nodeStatus" && s.nodeId === nodeId ? [s] : []));

/** Per session, the telemetry seqs in arrival order. */
export function seqsBySession(seen: readonly Seen[], nodeId: string): Map<bigint, number[]> {
  const sessions = new Map<bigint, number[]>();
  for (const t of telemetryOf(seen, nodeId)) {
    const list = sessions.get(t.session) ?? [];
    list.push(Number(t.seq));
    sessions.set(t.session, list);
  }
  return sessions;
}

/** 1, 2, …, k: in order, no gap, no repeat. */
export const isRunFromOne = (seqs: readonly number[]) => seqs.every((seq, i) => seq === i + 1);

export const stateName = (state: PeerState) => PeerState[state];
export { timestampMs };
