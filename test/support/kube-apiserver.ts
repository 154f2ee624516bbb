// A real Kubernetes control plane for tests: etcd and kube-apiserver (built by scripts/build-kube.sh) on free
// loopback ports, HTTPS with a generated CA, service-account signing keys, an admin token (system:masters),
// Node,RBAC authorization and an audit log, plus an admin kubeconfig. No controller-manager, scheduler or
// kubelet runs: nodes are objects the test creates (and kwok, when started, keeps alive), and the
// "default" ServiceAccount that the controller-manager would create is created here. Ready in a few
// seconds; every wait is bounded; stop() ends the processes and removes the directory.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type KubeBinaries, kubeBinaries } from "./kube-binaries.ts";
import { type KubePki, kubeconfigYaml, writeKubePki } from "./kube-pki.ts";
import { isRunning, OutputLog, stopProcess } from "./mosquitto-process.ts";
import { freePort } from "./ports.ts";

export interface RealApiServerOptions {
  /** Extra kube-apiserver flags (`--name=value`), appended last so they win. */
  apiserverArgs?: string[];
  /** Start kwok (node heartbeats, pods on its nodes reach Running). Default false. */
  kwok?: boolean;
  /** Bound on each start-up wait. Default 60 s. */
  timeoutMs?: number;
  bins?: KubeBinaries;
}

export interface RealApiServer {
  /** https://127.0.0.1:port */
  readonly server: string;
  readonly dir: string;
  /** Admin (system:masters) kubeconfig file. */
  readonly kubeconfigPath: string;
  readonly caCert: string;
  readonly auditLogPath: string;
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig for a bearer token (e.g. a ServiceAccount's from the TokenRequest API). */
  writeKubeconfig(name: string, token: string): string;
  /** Audit records (one per request, ResponseComplete / Panic stage), read now. */
  audit(): AuditRecord[];
  /** etcd's current revision, and a compaction of everything before it (old resourceVersions → 410). */
  compact(): Promise<number>;
  /** Stops kube-apiserver (watches drop, clients get connection errors) and starts it again on the same port. */
  restartApiServer(options?: { downMs?: number }): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export interface AuditRecord {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: {
    resource?: string;
    subresource?: string;
    apiGroup?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code?: number };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (its errors count as "not yet") until it answers; `dead` says when waiting is pointless. */
async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  dead: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = dead();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await wait(100);
  }
}

function launch(name: string, file: string, args: string[], log: OutputLog): ChildProcess {
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => log.append(d));
  child.stderr?.on("data", (d) => log.append(d));
  child.once("exit", (code, signal) => log.append(`--- ${name} exited (${code ?? signal})\n`));
  return child;
}

export async function startRealApiServer(options: RealApiServerOptions = {}): Promise<RealApiServer> {
  const bins = options.bins ?? kubeBinaries();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), "k3sf-kube-"));
  const log = new OutputLog(200_000);
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (isRunning(c)) c.kill("SIGKILL");
  };
  process.once("exit", killAll);
  try {
    const pki = await writeKubePki(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = launch(
      "etcd",
      bins.etcd,
      [
        "--name=test",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        "--unsafe-no-fsync", // a throwaway store: durability buys nothing here
        "--log-level=warn",
      ],
      log,
    );
    children.push(etcd);
    await until(
      "etcd healthy",
      timeoutMs,
      async () => ((await fetch(`${etcdUrl}/health`)).ok ? true : undefined),
      () => (isRunning(etcd) ? undefined : `etcd exited:\n${log.text()}`),
    );

    const server = `https://127.0.0.1:${apiPort}`;
    const auditLogPath = join(dir, "audit.log");
    const apiArgs = apiserverArgs(pki, { etcdUrl, apiPort, dir, auditLogPath, extra: options.apiserverArgs });
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, pki.caCert, "admin", pki.adminToken));
    const kubeConfig = () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };

    let apiserver = launch("kube-apiserver", bins.kubeApiserver, apiArgs, log);
    children.push(apiserver);
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const whenReady = async () => {
      const proc = apiserver;
      await until(
        "kube-apiserver ready",
        timeoutMs,
        async () => ((await fetchReadyz(server, pki)) ? true : undefined),
        () => (isRunning(proc) ? undefined : "kube-apiserver exited"),
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${log.text().slice(-5000)}`);
      });
    };
    await whenReady();
    // What kube-controller-manager would do: every namespace gets a "default" ServiceAccount (pods need it).
    await until("default ServiceAccount", timeoutMs, async () => {
      try {
        await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
      } catch {
        await core.createNamespacedServiceAccount({
          namespace: "default",
          body: { metadata: { name: "default" } },
        });
      }
      return true;
    });
    if (options.kwok) {
      children.push(await startKwok(bins, kubeconfigPath, log, timeoutMs));
    }

    const api: RealApiServer = {
      server,
      dir,
      kubeconfigPath,
      caCert: pki.caCert,
      auditLogPath,
      kubeConfig,
      writeKubeconfig(name, token) {
        const path = join(dir, `${name}.kubeconfig`);
        writeFileSync(path, kubeconfigYaml(server, pki.caCert, name, token), { mode: 0o600 });
        return path;
      },
      audit() {
        let text = "";
        try {
          text = readFileSync(auditLogPath, "utf8");
        } catch {}
        return text
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as AuditRecord);
      },
      async compact() {
        const post = async (path: string, body: unknown) => {
          const r = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
          if (!r.ok) throw new Error(`etcd ${path}: HTTP ${r.status} ${await r.text()}`);
          return (await r.json()) as { header?: { revision?: string } };
        };
        const revision = Number((await post("/v3/kv/range", { key: "AA==" })).header?.revision);
        await post("/v3/kv/compaction", { revision, physical: true });
        return revision;
      },
      async restartApiServer({ downMs = 0 } = {}) {
        await stopProcess(apiserver, "SIGTERM", 10_000);
        await wait(downMs);
        apiserver = launch("kube-apiserver", bins.kubeApiserver, apiArgs, log);
        children.push(apiserver);
        await whenReady();
      },
      logs: () => log.text(),
      async stop() {
        process.removeListener("exit", killAll);
        // kwok and the apiserver first (they talk to what follows), etcd last.
        for (const child of [...children].reverse()) await stopProcess(child, "SIGTERM", 10_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return api;
  } catch (err) {
    killAll();
    process.removeListener("exit", killAll);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function apiserverArgs(
  pki: KubePki,
  o: { etcdUrl: string; apiPort: number; dir: string; auditLogPath: string; extra?: string[] },
): string[] {
  return [
    `--etcd-servers=${o.etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${o.apiPort}`,
    `--cert-dir=${join(o.dir, "certs")}`,
    `--tls-cert-file=${pki.certFile}`,
    `--tls-private-key-file=${pki.keyFile}`,
    `--client-ca-file=${pki.caFile}`,
    `--token-auth-file=${pki.tokenFile}`,
    "--authorization-mode=Node,RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.saPublicKeyFile}`,
    `--service-account-signing-key-file=${pki.saSigningKeyFile}`,
    // Only a setting here: the test cluster has no Service network.
    "--service-cluster-ip-range=10.96.0.0/24",
    `--audit-policy-file=${pki.auditPolicyFile}`,
    `--audit-log-path=${o.auditLogPath}`,
    "--audit-log-format=json",
    "--audit-log-mode=blocking",
    "--profiling=false",
    ...(o.extra ?? []),
  ];
}

async function fetchReadyz(server: string, pki: KubePki): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = request(
      `${server}/readyz`,
      { ca: pki.caCert, headers: { authorization: `Bearer ${pki.adminToken}` }, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Nodes with this annotation are kwok's: it keeps them Ready (lease heartbeats) and runs their pods. */
export const KWOK_NODE_ANNOTATION = { "kwok.x-k8s.io/node": "fake" };

async function startKwok(
  bins: KubeBinaries,
  kubeconfigPath: string,
  log: OutputLog,
  timeoutMs: number,
): Promise<ChildProcess> {
  const port = await freePort();
  const child = launch(
    "kwok",
    bins.kwok,
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${bins.kwokStages}`,
      "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
      `--server-address=127.0.0.1:${port}`,
      "--node-lease-duration-seconds=40",
    ],
    log,
  );
  await until(
    "kwok healthy",
    timeoutMs,
    async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined),
    () => (isRunning(child) ? undefined : `kwok exited:\n${log.text().slice(-5000)}`),
  );
  return child;
}
