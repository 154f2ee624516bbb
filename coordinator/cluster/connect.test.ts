// connectCluster with the real client-node against the fake API server, and against nothing at all.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { captureLogger, WARN } from "../../test/support/cluster.ts";
import { freePort } from "../../test/support/ports.ts";
import { connectCluster, waitForCluster } from "./connect.ts";
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
    expect(lines[0]).toMatchObject({ code: "K3SF_ERR_KUBE_UNREACHABLE" });
    expect(lines[0]?.err).toBeUndefined(); // no stack for a situation that is not a bug
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
    expect(lines[0]).toMatchObject({ code: "K3SF_ERR_KUBE_CONFIG" });
  });
});

describe("waitForCluster: a cluster that was asked for is tried until it answers", () => {
  const fast = { initialMs: 10, maxMs: 40, jitter: 0 };

  it("--kubeconfig naming a file that is not there yet: retries, says so once, connects once it appears", async () => {
    const path = join(dir, "later.yaml");
    const { logger, lines } = captureLogger();
    const failures: string[] = [];
    const wait = waitForCluster({
      kubeconfigPath: path,
      env: {},
      logger,
      timeoutMs: 2000,
      backoff: fast,
      onFailure: (code) => failures.push(code),
    });
    expect(await wait.first).toBe("retrying");
    while (failures.length < 3) await new Promise((r) => setTimeout(r, 10));
    await writeFile(path, await readFile(api.kubeconfigPath, "utf8"));
    const connection = await wait.later;
    expect(connection?.server).toBe(api.url);
    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/^Kubernetes cluster not reachable \(.*\): retrying with backoff/);
    expect(warnings[0]?.err).toBeUndefined();
    expect(failures.every((code) => code === "ENOENT")).toBe(true);
    expect(lines.at(-1)?.msg).toMatch(/^connected to Kubernetes via --kubeconfig/);
  });

  it("a server that answers 503: counted per attempt, logged once per reason", async () => {
    api.faults.failNext({ pathPattern: "/version", status: 503, count: 3 });
    const { logger, lines } = captureLogger();
    const failures: string[] = [];
    const wait = waitForCluster({
      env: { KUBECONFIG: api.kubeconfigPath },
      exists: (p) => p === api.kubeconfigPath,
      logger,
      timeoutMs: 2000,
      backoff: fast,
      onFailure: (code) => failures.push(code),
    });
    expect(await wait.first).toBe("retrying");
    expect((await wait.later)?.server).toBe(api.url);
    expect(failures).toEqual(["503", "503", "503"]);
    expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
  });

  it("stops retrying when stopped", async () => {
    const { logger } = captureLogger();
    const wait = waitForCluster({
      kubeconfigPath: join(dir, "never.yaml"),
      env: {},
      logger,
      timeoutMs: 500,
      backoff: { initialMs: 60_000 },
    });
    expect(await wait.first).toBe("retrying");
    wait.stop();
    expect(await wait.later).toBeUndefined();
  });

  it("a kubeconfig merely found (~/.kube/config) that does not answer: standalone after one try", async () => {
    const port = await freePort();
    const path = await kubeconfigFor("home-closed", `https://127.0.0.1:${port}`);
    const home = join(dir, "home");
    await mkdir(join(home, ".kube"), { recursive: true });
    await writeFile(join(home, ".kube", "config"), await readFile(path, "utf8"));
    const { logger, lines } = captureLogger();
    const wait = waitForCluster({ env: {}, homeDir: home, logger, timeoutMs: 2000, backoff: fast });
    expect(await wait.first).toBe("standalone");
    expect(await wait.later).toBeUndefined();
    expect(lines.filter((l) => l.level === WARN)[0]?.msg).toContain("running standalone");
  });

  it("nothing configured at all: standalone", async () => {
    const { logger } = captureLogger();
    const wait = waitForCluster({ env: {}, homeDir: "/h", exists: noFiles, logger, timeoutMs: 500 });
    expect(await wait.first).toBe("standalone");
  });
});
