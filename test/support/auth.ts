// Test support for broker auth: MQTT clients that clean up after themselves, CONNACK and SUBACK codes as
// values, message collection, and CONNECT packets mqtt.js refuses to send. Used by *.test.ts only.
import { connect as netConnect } from "node:net";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { parser } from "mqtt-packet";
import type { ScryptCost } from "../../coordinator/broker/auth/password.ts";
import type { Role } from "../../coordinator/broker/auth/policy.ts";
import { addUser, loadUsers, type UsersTable } from "../../coordinator/broker/auth/users.ts";

/** Cheap scrypt for tests; production hashes use DEFAULT_SCRYPT_COST. */
export const TEST_COST: ScryptCost = { N: 1024, r: 8, p: 1 };

export type Cleanup = (() => Promise<unknown>)[];

export async function usersFile(
  file: string,
  entries: { username: string; role: Role; password: string | null; nodeId?: string }[],
): Promise<UsersTable> {
  for (const e of entries)
    await addUser(file, e.username, e.role, e.password, { nodeId: e.nodeId, cost: TEST_COST });
  return loadUsers(file);
}

export async function mqttClient(
  url: string,
  options: IClientOptions,
  cleanup: Cleanup,
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  cleanup.push(() => c.endAsync(true));
  return c;
}

/** The CONNACK return code a connect attempt gets: 0 when accepted. */
export async function connackCode(url: string, options: IClientOptions, cleanup: Cleanup): Promise<number> {
  try {
    await mqttClient(url, options, cleanup);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number") return code;
    throw error;
  }
}

/** SUBACK return codes for `filters`, in order: the granted QoS, or 128 when refused. */
export async function granted(c: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  try {
    const result = await c.subscribeAsync(filters, { qos });
    return result.map((g) => g.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw error;
  }
}

export interface Received {
  topic: string;
  payload: string;
}

export function collect(c: MqttClient): Received[] {
  const seen: Received[] = [];
  c.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  return seen;
}

/** Resolves when the broker has closed `c`; rejects if it is still connected after `timeoutMs`. */
export function closed(c: MqttClient, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!c.connected) return resolve();
    const timer = setTimeout(() => reject(new Error("the broker did not close the connection")), timeoutMs);
    c.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Sends one hand-encoded CONNECT (mqtt.js and mqtt-packet both refuse to send an empty client id with
 * clean session 0) and returns the CONNACK return code, or "closed" if the broker hung up instead.
 */
export function rawConnect(
  port: number,
  connect: {
    clientId: string;
    clean: boolean;
    username?: string;
    password?: string;
    protocolVersion?: 3 | 4;
  },
): Promise<number | "closed"> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, "127.0.0.1");
    const packets = parser({ protocolVersion: 4 });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no CONNACK"));
    }, 5000);
    packets.on("packet", (packet) => {
      if (packet.cmd !== "connack") return;
      clearTimeout(timer);
      socket.destroy();
      resolve(packet.returnCode ?? -1);
    });
    socket.on("data", (data) => packets.parse(data));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
    socket.once("error", reject);
    socket.write(encodeConnect(connect));
  });
}

function encodeConnect(c: Parameters<typeof rawConnect>[1]): Buffer {
  const str = (s: string) => {
    const bytes = Buffer.from(s, "utf8");
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const v3 = c.protocolVersion === 3;
  const flags =
    (c.username !== undefined ? 0x80 : 0) | (c.password !== undefined ? 0x40 : 0) | (c.clean ? 0x02 : 0);
  const body = Buffer.concat([
    str(v3 ? "MQIsdp" : "MQTT"),
    Buffer.from([v3 ? 3 : 4, flags, 0, 30]), // level, flags, keepalive 30 s
    str(c.clientId),
    ...(c.username !== undefined ? [str(c.username)] : []),
    ...(c.password !== undefined ? [str(c.password)] : []),
  ]);
  if (body.length > 127) throw new Error("test CONNECT too long for a one-byte remaining length");
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
