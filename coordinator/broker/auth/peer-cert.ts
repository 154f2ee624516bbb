// The username a verified TLS client certificate stands for: its subject CN, or without one its first
// DNS subject alternative name. Unverified certificates name nobody.
import { TLSSocket } from "node:tls";

export interface CertNames {
  subject?: { CN?: string | string[] } | null;
  /** Node's `PeerCertificate.subjectaltname`, e.g. "DNS:edge-01, IP Address:10.0.0.5". */
  subjectaltname?: string;
}

/** Pure: the username in a certificate, or undefined when it has none or more than one CN. */
export function certUsername(cert: CertNames): string | undefined {
  const cn = cert.subject?.CN;
  if (typeof cn === "string" && cn.length > 0) return cn;
  if (Array.isArray(cn)) return undefined; // several CNs: ambiguous, so nobody
  for (const part of (cert.subjectaltname ?? "").split(/,\s*/)) {
    const dns = /^DNS:([^"\s].*)$/.exec(part);
    if (dns?.[1]) return dns[1];
  }
  return undefined;
}

/** The username of a TLS connection's verified client certificate, or undefined (not TLS, none, unverified). */
export function verifiedPeerName(conn: unknown): string | undefined {
  if (!(conn instanceof TLSSocket) || !conn.authorized) return undefined;
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  return certUsername(cert);
}
