// connectCluster with the real client-node against the fake API server, and against nothing at all.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { captureLogger } from "../../test/support/cluster.ts";
import { freePort } from "../../test/support/ports.ts";
import { connectCluster } from "./connect.ts";
import { SERVICE_ACCOUNT_TOKEN } from "./kubeconfig.ts";

let api: FakeApiServer;
let dir: string;

beforeAll(async () => {
  api = await startFakeApiServer();
  dir = await mkdtemp(join(tmpdir(), "k3sf-connect-"));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => api.faults.reset());

const noFiles = () => false;

async function kubeconfigFor(name: string, server: string, token = api.token): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: {server: '${server}', certificate-authority-data: ${Buffer.from(api.caCert).toString("base64")}}}]`,
      `users: [{name: u, user: {token: '${token}'}}]`,
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      "current-context: x",
    ].join("\n"),
  );
  return path;
}

const standaloneLines = (lines: Array<{ msg: string }>) =>
  lines.filter((l) => l.msg.startsWith("no Kubernetes cluster reachable"));

describe("connectCluster", () => {
  it("connects through --kubeconfig and reports server, source and version", async () => {
    const { logger, lines } = captureLogger();
    const conn = await connectCluster({
      kubeconfigPath: api.kubeconfigPath,
      env: {},
      logger,
      timeoutMs: 2000,
      exists: noFiles,
    });
    expect(conn).toMatchObject({ server: api.url, source: "flag" });
    expect(conn?.version).toBe("v1.33.5+k3s1");
    expect(api.requests().some((r) => r.path === "/version")).toBe(true);
    expect(standaloneLines(lines)).toEqual([]);
  });

  it("uses the in-cluster service account from the env passed in", async () => {
    const sa = join(dir, "sa");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), api.token);
    await writeFile(join(sa, "ca.crt"), api.caCert);
    const { logger } = captureLogger();
    const conn = await connectCluster({
      env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(api.port) },
      logger,
      timeoutMs: 2000,
      exists: (p) => p === SERVICE_ACCOUNT_TOKEN,
      serviceAccountDir: sa,
    });
    expect(conn).toMatchObject({ source: "in-cluster", server: api.url });
  });

  it("runs standalone, logging once, when nothing is configured", async () => {
    const { logger, lines } = captureLogger();
    const conn = await connectCluster({ env: {}, logger, timeoutMs: 500, homeDir: "/h", exists: noFiles });
    expect(conn).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(standaloneLines(lines)).toHaveLength(1);
    expect(lines[0]?.msg).toContain("running standalone");
  });

  it("runs standalone, logging once with the reason, when the server's port is closed", async () => {
    const port = await freePort();
    const path = await kubeconfigFor("closed", `https://127.0.0.1:${port}`);
    const { logger, lines } = captureLogger();
    const conn = await connectCluster({
      env: { KUBECONFIG: path },
      logger,
      timeoutMs: 2000,
      exists: (p) => p === path,
    });
    expect(conn).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ source: "KUBECONFIG", server: `https://127.0.0.1:${port}` });
    expect(lines[0]?.msg).toMatch(
      /^no Kubernetes cluster reachable \(.*ECONNREFUSED.*\): running standalone$/,
    );
    expect(lines[0]?.err).toMatchObject({ code: "K3SF_ERR_KUBE_UNREACHABLE" });
  });

  it("gives up after timeoutMs when /version does not answer", async () => {
    api.faults.delay({ pathPattern: "/version", ms: 3000, count: 1 });
    const { logger, lines } = captureLogger();
    const started = Date.now();
    const conn = await connectCluster({
      kubeconfigPath: api.kubeconfigPath,
      env: {},
      logger,
      timeoutMs: 200,
    });
    expect(conn).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(standaloneLines(lines)).toHaveLength(1);
    expect(lines[0]?.msg).toContain("timed out");
  });

  it("runs standalone when the server refuses our credentials (401)", async () => {
    const path = await kubeconfigFor("badtoken", api.url, "wrong-token");
    const { logger, lines } = captureLogger();
    const conn = await connectCluster({ kubeconfigPath: path, env: {}, logger, timeoutMs: 2000 });
    expect(conn).toBeUndefined();
    expect(standaloneLines(lines)).toHaveLength(1);
    expect(lines[0]?.msg).toContain("HTTP 401");
  });

  it("runs standalone when the kubeconfig cannot be read", async () => {
    const { logger, lines } = captureLogger();
    const conn = await connectCluster({
      kubeconfigPath: join(dir, "missing.yaml"),
      env: {},
      logger,
      timeoutMs: 500,
    });
    expect(conn).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.err).toMatchObject({ code: "K3SF_ERR_KUBE_CONFIG" });
  });
});
