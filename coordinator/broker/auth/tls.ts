// TLS for the embedded broker's listener, from config file paths. With a CA, client certificates are
// requested and, when verified against it, name the user (see peer-cert.ts).
import { readFile } from "node:fs/promises";
import type { TlsOptions } from "node:tls";
import { AuthError } from "./errors.ts";

export interface BrokerTlsConfig {
  /** PEM server certificate (chain) and key files. */
  cert: string;
  key: string;
  /** PEM CA file that signs client certificates; unset: client certificates are not requested. */
  ca?: string;
  /** Refuse the TLS handshake without a client certificate the CA verifies. Needs `ca`. */
  requireClientCert?: boolean;
}

/** Why `config` cannot work, or undefined. */
export function brokerTlsProblem(config: BrokerTlsConfig): string | undefined {
  if (config.requireClientCert && config.ca === undefined)
    return "broker.tls.requireClientCert needs broker.tls.ca to verify client certificates";
  return undefined;
}

/** Options for `tls.createServer`: reads the files once. */
export async function brokerTlsOptions(config: BrokerTlsConfig): Promise<TlsOptions> {
  const problem = brokerTlsProblem(config);
  if (problem) throw new AuthError("K3SF_ERR_BROKER_TLS", problem);
  const read = async (what: string, file: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new AuthError("K3SF_ERR_BROKER_TLS", `cannot read broker TLS ${what} ${file}`, { cause: error });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read("certificate", config.cert),
    read("key", config.key),
    config.ca === undefined ? undefined : read("CA", config.ca),
  ]);
  return {
    cert,
    key,
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: config.requireClientCert ?? false } : {}),
    minVersion: "TLSv1.2",
  };
}
