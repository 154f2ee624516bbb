// Throwaway PKI for tests: self-signed CAs and the server or client certificates they sign (EC P-256, valid
// from a minute ago, so a slightly skewed clock does not reject them, for a week).
import { generate } from "selfsigned";

export interface Pem {
  cert: string;
  key: string;
}

const validity = () => ({
  notBeforeDate: new Date(Date.now() - 60_000),
  notAfterDate: new Date(Date.now() + 7 * 24 * 3600_000),
});

export async function certificateAuthority(commonName: string): Promise<Pem> {
  const ca = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

export interface LeafOptions {
  /** No common name at all when left out (a client then names itself by its DNS alternative name). */
  commonName?: string;
  usage: "server" | "client";
  dns?: string[];
  ips?: string[];
}

export async function signedCertificate(ca: Pem, options: LeafOptions): Promise<Pem> {
  const { commonName, usage, dns = [], ips = [] } = options;
  const pems = await generate(commonName === undefined ? [] : [{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      usage === "server"
        ? { name: "extKeyUsage", serverAuth: true }
        : { name: "extKeyUsage", clientAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
