// A TCP relay on loopback that can go silent without closing, like a cable pulled between a node and its
// broker: neither end sees FIN or RST, and only keepalive timers notice.
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpRelay {
  port: number;
  /** Stops forwarding in both directions and leaves every socket open. */
  blackhole(): void;
  close(): Promise<void>;
}

export async function relay(port: number): Promise<TcpRelay> {
  const pairs: [Socket, Socket][] = [];
  const server: Server = createServer((inbound) => {
    const outbound = createConnection(port, "127.0.0.1");
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on("error", () => undefined);
    outbound.on("error", () => undefined);
    pairs.push([inbound, outbound]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    blackhole() {
      for (const [inbound, outbound] of pairs) {
        inbound.unpipe(outbound);
        outbound.unpipe(inbound);
        inbound.pause();
        outbound.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) for (const s of pair) s.destroy();
        server.close(() => resolve());
      }),
  };
}
