// The HTTP listener's bounds against real sockets on loopback: a client that holds sockets open, or
// trickles its headers (slowloris), cannot take more than its share, and the listener keeps answering.
import { connect, type Socket } from "node:net";
import pino from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type HttpEndpoint, startHttpServer } from "./server.ts";

const logger = pino({ level: "silent" });
let http: HttpEndpoint | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await http?.close();
  http = undefined;
});

async function start(bounds: Parameters<typeof startHttpServer>[0]["bounds"]) {
  http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    registry: new Registry(),
    readiness: [],
    logger,
    bounds,
  });
  return http;
}

/** An open socket that has sent `first` and nothing else; resolves once connected. */
function hold(port: number, first = ""): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    let received = "";
    socket.on("data", (d) => {
      received += d.toString();
    });
    const closed = new Promise<string>((done) => socket.once("close", () => done(received)));
    socket.once("error", () => {});
    socket.once("connect", () => {
      if (first) socket.write(first);
      resolve({ socket, closed });
    });
    socket.once("error", reject);
  });
}

const healthz = async (url: string) => (await fetch(`${url}/healthz`)).status;

describe("HTTP connection bounds", () => {
  it("closes an address's sockets past its share, and takes it again once one is gone", async () => {
    const { port, url } = await start({ maxPerAddress: 4, maxConnections: 100 });
    const held = await Promise.all([1, 2, 3, 4].map(() => hold(port)));
    const extra = await hold(port);
    const outcome = await Promise.race([
      extra.closed.then(() => "closed"),
      new Promise((r) => setTimeout(() => r("still open"), 3000)),
    ]);
    expect(outcome).toBe("closed");
    held[0]?.socket.destroy();
    await held[0]?.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(await healthz(url)).toBe(200);
  });

  it("closes sockets past the listener's total", async () => {
    const { port } = await start({ maxPerAddress: 100, maxConnections: 3 });
    await Promise.all([1, 2, 3].map(() => hold(port)));
    const extra = await hold(port);
    const outcome = await Promise.race([
      extra.closed.then(() => "closed"),
      new Promise((r) => setTimeout(() => r("still open"), 3000)),
    ]);
    expect(outcome).toBe("closed");
  });

  it("answers 408 and closes a client that trickles its headers, after the headers timeout", async () => {
    const { port, url } = await start({ headersTimeoutMs: 500, checkEveryMs: 100 });
    const slow = await hold(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => slow.socket.write("X-Drip: 1\r\n"), 100);
    try {
      const outcome = await Promise.race([
        slow.closed,
        new Promise<string>((r) => setTimeout(() => r("still open after 10 s"), 10_000)),
      ]);
      expect(outcome).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
    expect(await healthz(url)).toBe(200);
  });
});
