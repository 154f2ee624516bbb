// A throwaway PKI for the fake API server: a self-signed CA and a server certificate it signs, valid for
// 127.0.0.1 and localhost, as K3s generates its own server-ca and serving certificate.
import { certificateAuthority, signedCertificate } from "../support/certs.ts";

export interface ServerCerts {
  /** PEM of the CA certificate: what the kubeconfig's certificate-authority-data carries. */
  caCert: string;
  cert: string;
  key: string;
}

export async function generateServerCerts(hosts: { dns: string[]; ips: string[] }): Promise<ServerCerts> {
  const ca = await certificateAuthority(`k3s-fleet-fake-server-ca@${Date.now()}`);
  const server = await signedCertificate(ca, { commonName: "kube-apiserver", usage: "server", ...hosts });
  return { caCert: ca.cert, ...server };
}
