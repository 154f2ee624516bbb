// The kubeconfig a client uses to reach the fake: the CA inline as certificate-authority-data, a bearer
// token user, one context made current — the shape of K3s' /etc/rancher/k3s/k3s.yaml with a token user.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigInput {
  server: string;
  caCert: string;
  token: string;
  /** Cluster, user and context name; default "fake". */
  name?: string;
  namespace?: string;
}

export function kubeconfigYaml(input: KubeconfigInput): string {
  const name = input.name ?? "fake";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [
      {
        name,
        cluster: {
          server: input.server,
          "certificate-authority-data": Buffer.from(input.caCert).toString("base64"),
        },
      },
    ],
    users: [{ name, user: { token: input.token } }],
    contexts: [
      {
        name,
        context: { cluster: name, user: name, ...(input.namespace ? { namespace: input.namespace } : {}) },
      },
    ],
    "current-context": name,
  });
}

/** Writes the kubeconfig into a fresh temporary directory; returns its path. */
export async function writeKubeconfig(input: KubeconfigInput): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "k3sf-fake-apiserver-"));
  const path = join(dir, "kubeconfig.yaml");
  await writeFile(path, kubeconfigYaml(input), { mode: 0o600 });
  return { path, dir };
}
