// Raw MQTT over a plain socket, for tests that send what a well-behaved client library never would
// (forged fixed headers, floods of CONNECTs, sockets that never speak).
import { createConnection, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";

export function openSocket(port: number, host = "127.0.0.1", localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host, localAddress });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Resolves when the peer closes `socket` (true) or after `timeoutMs` (false). */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed || socket.readyState === "closed") return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function connectPacket(options: {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
}): Buffer {
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: options.clean ?? true,
    clientId: options.clientId,
    keepalive: 30,
    username: options.username,
    password: options.password === undefined ? undefined : Buffer.from(options.password),
  });
}

/** The CONNACK return code the broker answers on `socket`, or "closed" when it closes without one. */
export function awaitConnack(socket: Socket, timeoutMs = 10_000): Promise<number | "closed" | "timeout"> {
  return new Promise((resolve) => {
    const parser = mqttPacket.parser();
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    const finish = (result: number | "closed" | "timeout") => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => parser.parse(chunk);
    const onClose = () => finish("closed");
    parser.on("packet", (packet) => {
      if (packet.cmd === "connack") finish(packet.returnCode ?? 0);
    });
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.on("error", () => undefined);
  });
}

/** A fixed header announcing `length` bytes of packet `type` (1 = CONNECT, 3 = PUBLISH). */
export function fixedHeader(type: number, length: number, flags = 0): Buffer {
  const bytes = [(type << 4) | flags];
  let n = length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** Writes `total` bytes of filler in 64 KiB chunks while the socket is open; resolves with what was written. */
export async function writeFiller(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let written = 0;
  while (written < total && !socket.destroyed) {
    const ok = socket.write(chunk);
    written += chunk.length;
    if (!ok) {
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        socket.once("drain", () => {
          clearTimeout(timer);
          resolve(true);
        });
        socket.once("close", () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!drained) break;
    }
  }
  return written;
}
