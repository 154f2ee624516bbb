// Coordinator replicas as real processes (`k3s-fleet coordinator`) on one broker, each reaching the Kubernetes
// API through its own loopback relay that a test can cut, with leader election on. Shared by the HA tests
// and the failover benchmark.
import { readFile, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { CoordinationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { type CliProcess, runCli } from "./cli.ts";
import { freePort } from "./ports.ts";

export interface CuttableRelay {
  port: number;
  /** Cut: existing connections are reset and new ones refused, as when the API server is unreachable. */
  setCut(cut: boolean): void;
  close(): Promise<void>;
}

export async function cuttableRelay(port: number): Promise<CuttableRelay> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((inbound) => {
    if (cut) return void inbound.destroy();
    const outbound = createConnection(port, "127.0.0.1");
    inbound.pipe(outbound).on("error", () => undefined);
    outbound.pipe(inbound).on("error", () => undefined);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    setCut(value) {
      cut = value;
      if (cut) for (const s of sockets) s.destroy();
    },
    async close() {
      cut = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ElectionTimings {
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
}

export const SHORT_TIMINGS: ElectionTimings = {
  leaseDuration: "3s",
  renewDeadline: "2s",
  retryPeriod: "500ms",
};

export interface Replica {
  name: string;
  process: CliProcess;
  relay: CuttableRelay;
  httpPort: number;
}

export interface ReplicaOptions {
  name: string;
  brokerUrl: string;
  api: { port: number; kubeconfigPath: string };
  dir: string;
  timings?: ElectionTimings;
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const { name, dir } = options;
  const timings = options.timings ?? SHORT_TIMINGS;
  const relay = await cuttableRelay(options.api.port);
  const kubeconfig = join(dir, `${name}.kubeconfig`);
  const original = await readFile(options.api.kubeconfigPath, "utf8");
  await writeFile(
    kubeconfig,
    original.replace(/https:\/\/127\.0\.0\.1:\d+/g, `https://127.0.0.1:${relay.port}`),
  );
  const httpPort = await freePort();
  const process = runCli(["coordinator", "--broker", options.brokerUrl, "--quiet"], {
    K3S_FLEET_K3S_KUBECONFIG: kubeconfig,
    K3S_FLEET_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    K3S_FLEET_COORDINATOR_REPORT_INTERVAL: "1s",
    K3S_FLEET_COORDINATOR_LEADER_ELECTION_IDENTITY: name,
    K3S_FLEET_COORDINATOR_LEADER_ELECTION_LEASE_DURATION: timings.leaseDuration,
    K3S_FLEET_COORDINATOR_LEADER_ELECTION_RENEW_DEADLINE: timings.renewDeadline,
    K3S_FLEET_COORDINATOR_LEADER_ELECTION_RETRY_PERIOD: timings.retryPeriod,
    K3S_FLEET_SCHEDULING_STORE: join(dir, `${name}.sqlite`),
    K3S_FLEET_SCHEDULING_BACKOFF_INITIAL: "200ms",
    K3S_FLEET_SCHEDULING_BACKOFF_MAX: "1s",
  });
  return { name, process, relay, httpPort };
}

/** `until` for a probe that has to await. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The Lease's holder as the API server has it ("" when none). */
export async function leaseHolder(kc: KubeConfig, name = "k3s-fleet-coordinator", namespace = "default") {
  try {
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace });
    return lease.spec?.holderIdentity ?? "";
  } catch {
    return "";
  }
}

export async function waitForHolder(kc: KubeConfig, accept: (h: string) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await leaseHolder(kc);
    if (h && accept(h)) return h;
    if (Date.now() > deadline) throw new Error(`no Lease holder as wanted (last: "${h}")`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "leader" or "standby" from the replica's /readyz, or why it could not be read. */
export async function replicaRole(replica: Replica): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${replica.httpPort}/readyz`);
    const body = await res.text();
    return body.includes("[+]leader") ? "leader" : body.includes("[+]standby") ? "standby" : body;
  } catch (error) {
    return `down: ${String((error as { cause?: unknown }).cause ?? error)} exit=${replica.process.child.exitCode}`;
  }
}
