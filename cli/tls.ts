// MQTT credentials and TLS material from config, read once at start.
import { readFile } from "node:fs/promises";
import { FleetError } from "../common/errors.ts";
import type { TlsOptions } from "../mqtt/link.ts";
import type { Config } from "./config/schema.ts";

export interface MqttAuth {
  username?: string;
  password?: string;
  tls?: TlsOptions;
}

/** The broker password file named in config cannot be read. */
export type CredentialsErrorCode = "K3SF_ERR_CREDENTIALS";

export class CredentialsError extends FleetError<CredentialsErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super("K3SF_ERR_CREDENTIALS", message, options);
  }
}

export async function mqttAuth(config: Config): Promise<MqttAuth> {
  const { username, caFile, certFile, keyFile, passwordFile } = config.broker;
  const read = (file: string | undefined) => (file ? readFile(file) : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(caFile), read(certFile), read(keyFile)]);
  const tls = ca || cert || key ? { ca, cert, key } : undefined;
  let password = config.broker.password;
  if (password === undefined && passwordFile !== undefined) {
    try {
      password = (await readFile(passwordFile, "utf8")).replace(/\r?\n$/, "");
    } catch (error) {
      throw new CredentialsError(
        `cannot read broker.passwordFile ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` +
          (username ? ` (no MQTT password for ${username}?)` : ""),
        { cause: error },
      );
    }
  }
  return { username, password, tls };
}
