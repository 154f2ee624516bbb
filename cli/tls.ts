// MQTT credentials and TLS material from config, read once at start.
import { readFile } from "node:fs/promises";
import type { TlsOptions } from "../mqtt/link.ts";
import type { Config } from "./config/schema.ts";

export interface MqttAuth {
  username?: string;
  password?: string;
  tls?: TlsOptions;
}

export async function mqttAuth(config: Config): Promise<MqttAuth> {
  const { username, password, caFile, certFile, keyFile } = config.broker;
  const read = (file: string | undefined) => (file ? readFile(file) : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(caFile), read(certFile), read(keyFile)]);
  const tls = ca || cert || key ? { ca, cert, key } : undefined;
  return { username, password, tls };
}
