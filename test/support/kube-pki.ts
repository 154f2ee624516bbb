// The files a throwaway kube-apiserver needs, written into its directory: a CA and the serving certificate it
// signs (127.0.0.1, localhost), the service-account signing key pair, a static token file with the admin
// (group system:masters), an audit policy (every request at Metadata level), and kubeconfigs.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { certificateAuthority, signedCertificate } from "./certs.ts";

export interface KubePki {
  caFile: string;
  caCert: string;
  certFile: string;
  keyFile: string;
  saPublicKeyFile: string;
  saSigningKeyFile: string;
  tokenFile: string;
  auditPolicyFile: string;
  adminToken: string;
}

export async function writeKubePki(dir: string): Promise<KubePki> {
  const ca = await certificateAuthority(`k3s-fleet-test-ca@${Date.now()}`);
  const serving = await signedCertificate(ca, {
    commonName: "kube-apiserver",
    usage: "server",
    dns: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    ips: ["127.0.0.1"],
  });
  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const adminToken = randomBytes(24).toString("hex");
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    caCert: ca.cert,
    caFile: file("ca.crt", ca.cert),
    certFile: file("apiserver.crt", serving.cert),
    keyFile: file("apiserver.key", serving.key),
    saPublicKeyFile: file("sa.pub", sa.publicKey.export({ type: "spki", format: "pem" }).toString()),
    saSigningKeyFile: file("sa.key", sa.privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
    // token,user,uid,"group1,group2"
    tokenFile: file("tokens.csv", `${adminToken},admin,admin-uid,"system:masters"\n`),
    auditPolicyFile: file(
      "audit-policy.yaml",
      stringify({
        apiVersion: "audit.k8s.io/v1",
        kind: "Policy",
        omitStages: ["RequestReceived"],
        rules: [{ level: "Metadata" }],
      }),
    ),
    adminToken,
  };
}

/** A kubeconfig for `server` whose one user authenticates with a bearer token. */
export function kubeconfigYaml(server: string, caCert: string, user: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "real",
        cluster: { server, "certificate-authority-data": Buffer.from(caCert).toString("base64") },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: "real", user, namespace: "default" } }],
    "current-context": user,
  });
}
