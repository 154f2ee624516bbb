import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import {
  describeResolution,
  K3S_KUBECONFIG,
  type KubeconfigResolution,
  loadKubeConfig,
  type ResolveInput,
  resolveKubeconfig,
} from "./kubeconfig.ts";

const TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
const IN_CLUSTER_ENV = { KUBERNETES_SERVICE_HOST: "10.43.0.1", KUBERNETES_SERVICE_PORT: "443" };

interface Row {
  name: string;
  flag?: string;
  env?: Record<string, string>;
  home?: string;
  files: string[];
  expected: KubeconfigResolution | undefined;
}

const rows: Row[] = [
  { name: "nothing configured", files: [], expected: undefined },
  {
    name: "--kubeconfig wins over everything, even if the file is missing",
    flag: "/cfg/flag.yaml",
    env: { ...IN_CLUSTER_ENV, KUBECONFIG: "/cfg/env.yaml" },
    home: "/home/u",
    files: [TOKEN, "/cfg/env.yaml", "/home/u/.kube/config", K3S_KUBECONFIG],
    expected: { source: "flag", path: "/cfg/flag.yaml" },
  },
  {
    name: "in-cluster: service env and mounted token",
    env: { ...IN_CLUSTER_ENV, KUBECONFIG: "/cfg/env.yaml" },
    home: "/home/u",
    files: [TOKEN, "/cfg/env.yaml", "/home/u/.kube/config", K3S_KUBECONFIG],
    expected: { source: "in-cluster" },
  },
  {
    name: "service env without a token is not in-cluster",
    env: { ...IN_CLUSTER_ENV },
    home: "/home/u",
    files: ["/home/u/.kube/config"],
    expected: { source: "home", path: "/home/u/.kube/config" },
  },
  {
    name: "a token without the service env is not in-cluster",
    home: "/home/u",
    files: [TOKEN, K3S_KUBECONFIG],
    expected: { source: "k3s", path: K3S_KUBECONFIG },
  },
  {
    name: "KUBECONFIG before ~/.kube/config",
    env: { KUBECONFIG: "/cfg/env.yaml" },
    home: "/home/u",
    files: ["/cfg/env.yaml", "/home/u/.kube/config"],
    expected: { source: "KUBECONFIG", path: "/cfg/env.yaml", paths: ["/cfg/env.yaml"] },
  },
  {
    name: "KUBECONFIG list keeps the files that exist, in order",
    env: { KUBECONFIG: "/a.yaml::/missing.yaml:/b.yaml" },
    files: ["/a.yaml", "/b.yaml"],
    expected: { source: "KUBECONFIG", path: "/a.yaml", paths: ["/a.yaml", "/b.yaml"] },
  },
  {
    name: "KUBECONFIG naming only missing files still applies (loading then fails, as kubectl would)",
    env: { KUBECONFIG: "/missing.yaml" },
    home: "/home/u",
    files: ["/home/u/.kube/config"],
    expected: { source: "KUBECONFIG", path: "/missing.yaml", paths: ["/missing.yaml"] },
  },
  {
    name: "empty KUBECONFIG is ignored",
    env: { KUBECONFIG: "  " },
    home: "/home/u/",
    files: ["/home/u/.kube/config"],
    expected: { source: "home", path: "/home/u/.kube/config" },
  },
  {
    name: "K3s's kubeconfig last",
    home: "/home/u",
    files: [K3S_KUBECONFIG],
    expected: { source: "k3s", path: K3S_KUBECONFIG },
  },
  { name: "no home directory", files: ["/.kube/config"], expected: undefined },
];

describe("resolveKubeconfig", () => {
  it.each(rows)("$name", ({ flag, env, home, files, expected }) => {
    const input: ResolveInput = {
      explicitPath: flag,
      env: env ?? {},
      homeDir: home,
      exists: (p) => files.includes(p),
    };
    expect(resolveKubeconfig(input)).toEqual(expected);
  });

  it("describes each source for logs", () => {
    expect(describeResolution({ source: "in-cluster" })).toBe("in-cluster service account");
    expect(describeResolution({ source: "flag", path: "/x" })).toBe("--kubeconfig (/x)");
    expect(describeResolution({ source: "KUBECONFIG", path: "/a", paths: ["/a", "/b"] })).toBe(
      "KUBECONFIG (/a, /b)",
    );
  });
});

describe("loadKubeConfig", () => {
  let api: FakeApiServer;
  let dir: string;

  beforeAll(async () => {
    api = await startFakeApiServer();
    dir = await mkdtemp(join(tmpdir(), "k3sf-kubeconfig-"));
  });
  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads a kubeconfig file", () => {
    const kc = loadKubeConfig({ source: "flag", path: api.kubeconfigPath }, { env: {} });
    expect(kc.getCurrentCluster()?.server).toBe(api.url);
  });

  it("merges a KUBECONFIG list with the first file winning", async () => {
    const other = join(dir, "other.yaml");
    await writeFile(
      other,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: fake, cluster: {server: 'https://elsewhere:6443'}}, {name: b, cluster: {server: 'https://b:6443'}}]",
        "users: [{name: b, user: {token: t}}]",
        "contexts: [{name: b, context: {cluster: b, user: b}}]",
        "current-context: b",
      ].join("\n"),
    );
    const kc = loadKubeConfig(
      { source: "KUBECONFIG", path: api.kubeconfigPath, paths: [api.kubeconfigPath, other] },
      { env: {} },
    );
    expect(kc.getCurrentCluster()?.server).toBe(api.url);
    expect(kc.getContexts().map((c) => c.name)).toEqual(["fake", "b"]);
  });

  it("fails with K3SF_ERR_KUBE_CONFIG and the cause for a missing file", () => {
    let error: unknown;
    try {
      loadKubeConfig({ source: "KUBECONFIG", path: "/nope.yaml", paths: ["/nope.yaml"] }, { env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      code: "K3SF_ERR_KUBE_CONFIG",
      message: expect.stringContaining("/nope.yaml"),
    });
    expect((error as Error).cause).toBeDefined();
  });

  it("fails with K3SF_ERR_KUBE_CONFIG when no context names a cluster", async () => {
    const empty = join(dir, "empty.yaml");
    await writeFile(empty, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
    expect(() => loadKubeConfig({ source: "home", path: empty }, { env: {} })).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_KUBE_CONFIG" }),
    );
  });

  it("builds the in-cluster config from the env passed in, not process.env", async () => {
    const sa = join(dir, "sa");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), api.token);
    await writeFile(join(sa, "ca.crt"), api.caCert);
    const kc = loadKubeConfig(
      { source: "in-cluster" },
      {
        env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(api.port) },
        serviceAccountDir: sa,
      },
    );
    expect(kc.getCurrentCluster()).toMatchObject({ server: api.url, caFile: join(sa, "ca.crt") });
    const v6 = loadKubeConfig(
      { source: "in-cluster" },
      { env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: sa },
    );
    expect(v6.getCurrentCluster()?.server).toBe("https://[fd00::1]:443");
  });
});
