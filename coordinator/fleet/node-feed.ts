// Where the coordinator's node messages (births, statuses, telemetry) come from. Over MQTT that is the
// coordinator's own subscription; with the embedded broker it is a subscription inside aedes, which
// skips the loopback hop: no second encode, socket write, parse and PUBACK for every message
// (bench/results.md, finding 4: that hop cost more than the coordinator's own work).
import type { Aedes, AedesPublishPacket } from "aedes";

export type NodeMessageHandler = (topic: string, payload: Buffer) => void;

export interface NodeFeed {
  /** Delivers every message published on `filter` from now on, and the retained ones, to `handler`. */
  start(filter: string, handler: NodeMessageHandler): Promise<void>;
  stop(): Promise<void>;
}

/** A feed from the embedded broker itself: its publishes (Wills included) reach `handler` in order. */
export function aedesNodeFeed(aedes: Aedes): NodeFeed {
  let subscribed:
    | { filter: string; deliver: (packet: AedesPublishPacket, done: () => void) => void }
    | undefined;
  return {
    async start(filter, handler) {
      const deliver = (packet: AedesPublishPacket, done: () => void) => {
        try {
          handler(packet.topic, toBuffer(packet.payload));
        } finally {
          // aedes acknowledges the publisher once every subscriber is done: never hold it up.
          done();
        }
      };
      await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, resolve));
      subscribed = { filter, deliver };
      // Published before we subscribed (agents that connected while the coordinator was starting).
      for await (const packet of retained(aedes, filter)) {
        handler(packet.topic, toBuffer(packet.payload));
      }
    },
    async stop() {
      if (subscribed === undefined) return;
      const { filter, deliver } = subscribed;
      subscribed = undefined;
      await new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, resolve));
    },
  };
}

/** aedes keeps its persistence on the instance but leaves it out of its types. */
function retained(aedes: Aedes, filter: string): AsyncIterable<AedesPublishPacket> {
  const { persistence } = aedes as unknown as {
    persistence: { createRetainedStream(pattern: string): AsyncIterable<AedesPublishPacket> };
  };
  return persistence.createRetainedStream(filter);
}

function toBuffer(payload: string | Buffer): Buffer {
  return typeof payload === "string" ? Buffer.from(payload) : payload;
}
