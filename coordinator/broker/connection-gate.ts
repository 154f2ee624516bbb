// What a connection may cost before it has authenticated, enforced on the socket in front of aedes:
// - every byte aedes reads passes the frame guard, so a CONNECT above `maxConnectBytes` or any packet above
//   `maxPacketBytes` closes the connection at its fixed header, before the parser buffers the body;
// - at most `maxPendingPerAddress` connections per remote address may be open without having completed
//   CONNECT/CONNACK (idle sockets, or CONNECTs waiting for their password check); more are closed at once.
// - optionally, at most `connectRatePerAddress` new sockets per second per address (token bucket, burst
//   `connectBurstPerAddress`): more are closed at accept, before aedes spends anything on them (EMQX's
//   `max_conn_rate`, per address). Off by default, as in EMQX: the fleet simulator opens 500/s on loopback.
// The total number of sockets is the server's `maxConnections`; the time allowed for CONNECT is aedes'
// `connectTimeout` (both set by broker.ts).
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { createFrameGuard, type FrameViolationReason } from "./frame-guard.ts";
import { createBucket, createLogThrottle, type TokenBucket, takeToken } from "./limits.ts";

export type GateRefusalReason = FrameViolationReason | "too_many_pending" | "connect_rate";

export interface ConnectionGateOptions {
  maxConnectBytes: number;
  maxPacketBytes: number;
  maxPendingPerAddress: number;
  /** New sockets per second per address; 0 = no limit. */
  connectRatePerAddress?: number;
  connectBurstPerAddress?: number;
  logger: Logger;
  /** Monotonic milliseconds, for log throttling. */
  now?: () => number;
}

export interface ConnectionGate {
  /** Wires `socket` (before aedes sees it); false when it was refused and destroyed. */
  admit(socket: Socket): boolean;
  /** The socket's client completed CONNECT/CONNACK: it no longer counts as pending. */
  connected(socket: Socket): void;
  refusals(): Partial<Record<GateRefusalReason, number>>;
  /** Connections open and not yet connected, over all addresses. */
  pending(): number;
}

export function createConnectionGate(options: ConnectionGateOptions): ConnectionGate {
  const { maxConnectBytes, maxPacketBytes, maxPendingPerAddress, logger } = options;
  const now = options.now ?? (() => performance.now());
  const counts = new Map<GateRefusalReason, number>();
  const pendingByAddress = new Map<string, number>();
  const pendingSockets = new Map<Socket, string>();
  const rate = options.connectRatePerAddress ?? 0;
  const burst = options.connectBurstPerAddress ?? Math.max(1, rate * 2);
  /** Buckets by address, oldest first; bounded so a flood of addresses costs no memory. */
  const buckets = new Map<string, TokenBucket>();
  const throttle = createLogThrottle({ intervalMs: 10_000, maxPerInterval: 20, maxKeys: 1000 });

  function refuse(socket: Socket, address: string, reason: GateRefusalReason, detail: string) {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const decision = throttle.admit(`${reason}|${address}`, now());
    if (decision.log)
      logger.warn({ address, reason, suppressed: decision.suppressed }, `mqtt connection closed: ${detail}`);
    socket.destroy();
  }

  function release(socket: Socket) {
    const address = pendingSockets.get(socket);
    if (address === undefined) return;
    pendingSockets.delete(socket);
    const left = (pendingByAddress.get(address) ?? 1) - 1;
    if (left <= 0) pendingByAddress.delete(address);
    else pendingByAddress.set(address, left);
  }

  return {
    admit(socket) {
      const address = socket.remoteAddress ?? "unknown";
      if (rate > 0) {
        const at = now();
        let bucket = buckets.get(address);
        if (bucket === undefined) {
          bucket = createBucket(burst, at);
          buckets.set(address, bucket);
          if (buckets.size > 10_000) buckets.delete(buckets.keys().next().value as string);
        }
        if (!takeToken(bucket, rate, burst, at)) {
          refuse(socket, address, "connect_rate", `more than ${rate} new connections/s from ${address}`);
          return false;
        }
      }
      const pending = pendingByAddress.get(address) ?? 0;
      if (pending >= maxPendingPerAddress) {
        refuse(socket, address, "too_many_pending", `${pending} connections from ${address} await CONNECT`);
        return false;
      }
      pendingByAddress.set(address, pending + 1);
      pendingSockets.set(socket, address);
      socket.once("close", () => release(socket));

      const guard = createFrameGuard({ maxConnectBytes, maxPacketBytes });
      // aedes reads with `conn.read(null)` on 'readable': every chunk it gets passes here first. What a
      // refused socket still buffers is at most one stream highWaterMark, never the announced packet.
      const read = socket.read.bind(socket);
      socket.read = (size?: number) => {
        const chunk: unknown = read(size);
        if (chunk instanceof Uint8Array && !socket.destroyed) {
          const violation = guard.feed(chunk);
          if (violation) {
            refuse(socket, address, violation.reason, violation.detail);
            return null;
          }
        }
        return chunk;
      };
      return true;
    },
    connected: release,
    refusals: () => Object.fromEntries(counts),
    pending: () => pendingSockets.size,
  };
}
