// What one HTTP client may cost the coordinator's listener. Node's defaults leave the number of sockets
// unbounded and give a client that trickles its headers 60 s (checked every 30 s) before a 408, so one
// local process holding a few thousand such sockets could take the file descriptors the broker and the
// agent need. Bounded here: sockets in all, sockets per address, and the time to send a request's headers.
import type { Server } from "node:http";
import type { Socket } from "node:net";

export interface HttpConnectionBounds {
  /** Sockets open at once on the listener; past it new ones are closed at once. */
  maxConnections: number;
  /** Sockets open at once from one address (SSE streams and idle keep-alive sockets included). */
  maxPerAddress: number;
  /** Time to receive a request's headers, and how often that is checked (Node checks every 30 s). */
  headersTimeoutMs: number;
  checkEveryMs: number;
}

export const DEFAULT_HTTP_CONNECTION_BOUNDS: HttpConnectionBounds = {
  maxConnections: 2048,
  maxPerAddress: 256,
  headersTimeoutMs: 10_000,
  checkEveryMs: 1000,
};

/** Options for `http.createServer` that carry the timing bounds. */
export function serverTimeouts(bounds: HttpConnectionBounds) {
  return {
    headersTimeout: bounds.headersTimeoutMs,
    // Whole request (headers and body; the endpoints take GET only): a little more than the headers.
    requestTimeout: bounds.headersTimeoutMs * 2,
    connectionsCheckingInterval: bounds.checkEveryMs,
  };
}

/** Applies the socket-count bounds to `server`; `onRefused` hears each socket closed by one. */
export function boundConnections(
  server: Server,
  bounds: HttpConnectionBounds,
  onRefused: (reason: "max_connections" | "per_address", address: string) => void = () => {},
): void {
  server.maxConnections = bounds.maxConnections;
  server.on("drop", (data?: { remoteAddress?: string }) =>
    onRefused("max_connections", data?.remoteAddress ?? ""),
  );
  const perAddress = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > bounds.maxPerAddress) {
      socket.destroy();
      onRefused("per_address", address);
      return;
    }
    perAddress.set(address, open);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
}
