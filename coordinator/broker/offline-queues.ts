// Bounded per-client message queues for persistent sessions (clean session = 0), as Mosquitto's
// `max_queued_messages` / `max_queued_bytes`: aedes' memory persistence queues every QoS>0 message for a
// subscriber whose session outlives its connection, without limit. This wraps any aedes persistence: a
// message that would take a client's queue above either bound is not queued for that client (the others
// still get it) and is counted as dropped. The queue also holds messages in flight to an online persistent
// client until their PUBACK, so the bound covers both, as in Mosquitto.
// The same wrapper bounds the payload bytes of all retained messages together (`maxRetainedBytes`): a
// retained message that would take the total above it is delivered to current subscribers but not kept
// (issue 12: one local client retained 600 MB).

export interface QueueBounds {
  /** Messages per client; 0 = no limit. */
  maxMessages: number;
  /** Payload bytes per client; 0 = no limit. */
  maxBytes: number;
  /** Payload bytes of all retained messages together; 0 = no limit. */
  maxRetainedBytes: number;
}

export type QueueDropReason = "queue_full_messages" | "queue_full_bytes" | "retained_full";

interface Sub {
  clientId: string;
}
interface QueuedPacket {
  payload?: Uint8Array | string;
  topic?: string;
}
/** The part of an aedes persistence this wrapper changes (aedes 1.x calls these without callbacks). */
interface OutgoingQueue {
  outgoingEnqueue(sub: Sub, packet: QueuedPacket): Promise<unknown>;
  outgoingEnqueueCombi(subs: Sub[], packet: QueuedPacket): Promise<unknown>;
  outgoingClearMessageId(client: Sub | { id: string }, packet: unknown): Promise<QueuedPacket | undefined>;
  storeRetained(packet: QueuedPacket): Promise<unknown>;
}

export interface BoundedQueues<P> {
  /** Pass this to aedes as `persistence`. */
  persistence: P;
  dropped(): Partial<Record<QueueDropReason, number>>;
  /** Messages and bytes queued for `clientId` as counted here. */
  queued(clientId: string): { messages: number; bytes: number };
  /** Payload bytes of the retained messages kept. */
  retainedBytes(): number;
}

function sizeOf(packet: QueuedPacket | undefined): number {
  const payload = packet?.payload;
  if (payload === undefined) return 0;
  return typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
}

export function boundQueues<P extends object>(inner: P, bounds: QueueBounds): BoundedQueues<P> {
  const queue = inner as unknown as OutgoingQueue;
  const counts = new Map<string, { messages: number; bytes: number }>();
  const drops = new Map<QueueDropReason, number>();
  const retainedSizes = new Map<string, number>();
  let retainedBytes = 0;

  /** Reserves room for `bytes` in `clientId`'s queue, or says why there is none. */
  function reserve(clientId: string, bytes: number): QueueDropReason | undefined {
    const count = counts.get(clientId) ?? { messages: 0, bytes: 0 };
    if (bounds.maxMessages > 0 && count.messages >= bounds.maxMessages) return "queue_full_messages";
    if (bounds.maxBytes > 0 && count.bytes + bytes > bounds.maxBytes) return "queue_full_bytes";
    count.messages++;
    count.bytes += bytes;
    counts.set(clientId, count);
    return undefined;
  }
  function drop(reason: QueueDropReason) {
    drops.set(reason, (drops.get(reason) ?? 0) + 1);
  }

  const overrides: Partial<OutgoingQueue> = {
    storeRetained(packet) {
      const topic = packet.topic ?? "";
      const bytes = sizeOf(packet);
      const before = retainedSizes.get(topic) ?? 0;
      if (
        bytes > 0 &&
        bounds.maxRetainedBytes > 0 &&
        retainedBytes - before + bytes > bounds.maxRetainedBytes
      ) {
        drop("retained_full");
        return Promise.resolve(); // delivered live by aedes, not kept
      }
      retainedBytes += bytes - before;
      if (bytes === 0) retainedSizes.delete(topic);
      else retainedSizes.set(topic, bytes);
      return queue.storeRetained(packet);
    },
    outgoingEnqueue(sub, packet) {
      const reason = reserve(sub.clientId, sizeOf(packet));
      if (reason) {
        drop(reason);
        return Promise.resolve();
      }
      return queue.outgoingEnqueue(sub, packet);
    },
    outgoingEnqueueCombi(subs, packet) {
      const bytes = sizeOf(packet);
      const kept = subs.filter((sub) => {
        const reason = reserve(sub.clientId, bytes);
        if (reason) drop(reason);
        return reason === undefined;
      });
      return kept.length === 0 ? Promise.resolve() : queue.outgoingEnqueueCombi(kept, packet);
    },
    async outgoingClearMessageId(client, packet) {
      const removed = await queue.outgoingClearMessageId(client, packet);
      if (removed !== undefined) {
        const id = "clientId" in client ? client.clientId : client.id;
        const count = counts.get(id);
        if (count !== undefined) {
          count.messages--;
          count.bytes -= sizeOf(removed);
          if (count.messages <= 0) counts.delete(id);
        }
      }
      return removed;
    },
  };

  const persistence = new Proxy(inner, {
    get(target, property, receiver) {
      if (typeof property === "string" && property in overrides)
        return overrides[property as keyof OutgoingQueue];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    persistence,
    dropped: () => Object.fromEntries(drops),
    queued: (clientId) => ({ ...(counts.get(clientId) ?? { messages: 0, bytes: 0 }) }),
    retainedBytes: () => retainedBytes,
  };
}
