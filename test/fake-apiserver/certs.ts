// A throwaway PKI for the fake API server: a self-signed CA and a server certificate it signs, valid for
// 127.0.0.1 and localhost, as K3s generates its own server-ca and serving certificate.
import { generate } from "selfsigned";

export interface ServerCerts {
  /** PEM of the CA certificate: what the kubeconfig's certificate-authority-data carries. */
  caCert: string;
  cert: string;
  key: string;
}

export async function generateServerCerts(hosts: { dns: string[]; ips: string[] }): Promise<ServerCerts> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
  const ca = await generate([{ name: "commonName", value: `k3s-fleet-fake-server-ca@${Date.now()}` }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "kube-apiserver" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...hosts.dns.map((value) => ({ type: 2 as const, value })),
          ...hosts.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { caCert: ca.cert, cert: server.cert, key: server.private };
}
