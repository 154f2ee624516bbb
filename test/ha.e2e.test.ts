// Coordinator replicas for real: `k3s-fleet coordinator` processes on one Mosquitto, each reaching the (fake)
// Kubernetes API through its own loopback relay, competing for the Lease with short timings. Exactly one
// leads; SIGKILL of the leader hands over to a standby, which binds what is pending and answers the schedule
// request sent during the failover; a leader cut off from the API server stops acting and rejoins as a
// standby; a leader killed between creating a pod and binding it leaves the pod to the next one. Every API
// call the fake received is checked: no pod is ever created or bound twice.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decode, PeerState, topicsFor } from "../proto/index.ts";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./fake-apiserver/index.ts";
import { type CliProcess, runCli } from "./support/cli.ts";
import { type MosquittoProcess, startMosquitto } from "./support/mosquitto.ts";
import {
  type CuttableRelay,
  eventually,
  type Replica,
  replicaRole,
  startReplica,
  waitForHolder,
} from "./support/replicas.ts";
import { toolAvailable } from "./support/tools.ts";
import { until } from "./support/until.ts";

const topics = topicsFor();
const hasMosquitto = toolAvailable("mosquitto", "mosquitto");

let api: FakeApiServer;
let broker: MosquittoProcess;
let dir: string;
const running: CliProcess[] = [];
const relays: CuttableRelay[] = [];

beforeAll(async () => {
  if (!hasMosquitto) return;
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "k3sf-ha-"));
  api = await startFakeApiServer();
  for (const name of ["edge-1", "edge-2", "edge-3"]) api.addNode(makeNode({ name, cpu: "4", memory: "8Gi" }));
});
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
  for (const r of relays.splice(0)) await r.close();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const replica = async (name: string): Promise<Replica> => {
  const started = await startReplica({ name, brokerUrl: broker.url, api, dir });
  running.push(started.process);
  relays.push(started.relay);
  return started;
};
const holderIs = (accept: (h: string) => boolean, timeoutMs?: number) =>
  waitForHolder(api.kubeConfig(), accept, timeoutMs);
const role = replicaRole;

/** `k3s-fleet schedule` as a user runs it: resends (same request id) until answered or `timeout`. */
const scheduleCli = (podName: string, requestId: string, timeout: string) =>
  runCli([
    "schedule",
    "--broker",
    broker.url,
    "--pod-name",
    podName,
    "--image",
    "nginx:1.27",
    "--cpu",
    "100m",
    "--memory",
    "64Mi",
    "--request-id",
    requestId,
    "--timeout",
    timeout,
  ]);

/** The retained active status and each instance's, as a fresh subscriber sees them. */
async function retainedStatuses() {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  const seen = new Map<string, { state: PeerState; instanceId: string }>();
  client.on("message", (topic, payload) => {
    if (payload.length === 0) return;
    const decoded = decode("coordinatorStatus", payload);
    if (decoded.ok) seen.set(topic, { state: decoded.message.state, instanceId: decoded.message.instanceId });
  });
  await client.subscribeAsync([topics.coordinatorStatus, `${topics.root}/coordinator/instance/+/status`]);
  await new Promise((r) => setTimeout(r, 300));
  await client.endAsync();
  return seen;
}

/** Successful Binding POSTs (the fake answers a second binding of a pod with 409, never 201). */
const bindings = () =>
  api.requests().filter((r) => r.method === "POST" && /\/bindings?$/.test(r.path) && r.status === 201).length;
/** Every Binding POST, whatever the answer: a replica that tried to bind an already bound pod shows here. */
const bindAttempts = () =>
  api.requests().filter((r) => r.method === "POST" && /\/bindings?$/.test(r.path)).length;
const podCreates = () =>
  api.requests().filter((r) => r.method === "POST" && /\/pods$/.test(r.path) && r.status === 201).length;
const nodeOf = (name: string) =>
  (api.getPod("default", name)?.spec as { nodeName?: string } | undefined)?.nodeName;
const pending = (name: string) => makePod({ name, schedulerName: "k3s-fleet", requests: { cpu: "100m" } });

describe.skipIf(!hasMosquitto)("coordinator replicas with leader election", () => {
  it("three replicas: one leads; SIGKILL hands over; nothing is created or bound twice", async () => {
    const replicas = await Promise.all(["coord-a", "coord-b", "coord-c"].map(replica));
    const first = await holderIs(() => true, 60_000).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n${replicas.map((r) => `${r.name}: ${r.process.stderr()}`).join("\n")}`,
      );
    });
    await eventually(
      async () => {
        const now = await Promise.all(replicas.map(role));
        return now.every((r) => !r.startsWith("down")) && now.includes("leader");
      },
      20_000,
      "all up, one leading",
    );
    const roles = await Promise.all(replicas.map(role));
    expect(roles.filter((r) => r === "leader")).toHaveLength(1);
    expect(roles.filter((r) => r === "standby")).toHaveLength(2);
    const leader = replicas.find((r) => r.name === first);
    if (!leader) throw new Error("leader not among replicas");
    expect(await role(leader)).toBe("leader");

    // The active status names the leader; every instance has its own.
    const statuses = await retainedStatuses();
    expect(statuses.get(topics.coordinatorStatus)?.state).toBe(PeerState.ONLINE);
    expect(statuses.get(topics.coordinatorStatus)?.instanceId).toContain(first);
    for (const r of replicas)
      expect(statuses.get(topics.coordinatorInstanceStatus(r.name))?.state).toBe(PeerState.ONLINE);

    for (let i = 0; i < 3; i++) api.addPod(pending(`before-${i}`));
    await until(
      () => [0, 1, 2].every((i) => nodeOf(`before-${i}`)),
      15_000,
      "pods bound by the first leader",
    );

    leader.process.kill("SIGKILL");
    await leader.process.exited;
    // During the failover: more pending pods, and a schedule request from the CLI, which resends until answered.
    for (let i = 0; i < 3; i++) api.addPod(pending(`during-${i}`));
    const request = scheduleCli("asked-during-failover", "failover-1", "30s");
    running.push(request);
    const next = await holderIs((h) => h !== first, 30_000);
    expect(next).not.toBe(first);
    expect(await request.exited).toBe(0);
    expect(request.stdout()).toMatch(/asked-during-failover/);
    await until(() => [0, 1, 2].every((i) => nodeOf(`during-${i}`)), 15_000, "pods bound by the new leader");
    expect(nodeOf("asked-during-failover")).toBeTruthy();

    // One binding per pod, one pod for the request, and the old leader's Will marked only itself offline
    // before the new leader announced itself.
    expect(bindings()).toBe(7);
    expect(bindAttempts()).toBe(7);
    expect(podCreates()).toBe(1);
    const after = await retainedStatuses();
    expect(after.get(topics.coordinatorStatus)).toMatchObject({ state: PeerState.ONLINE });
    expect(after.get(topics.coordinatorStatus)?.instanceId).toContain(next);
    const standbys = replicas.filter((r) => r !== leader && r.name !== next);
    expect(await Promise.all(standbys.map(role))).toEqual(["standby"]);
  }, 120_000);

  it("a leader cut off from the API server stops acting, a standby takes over, and it rejoins as standby", async () => {
    const replicas = await Promise.all(["coord-a", "coord-b"].map(replica));
    const first = await holderIs(() => true);
    const leader = replicas.find((r) => r.name === first);
    const other = replicas.find((r) => r.name !== first);
    if (!leader || !other) throw new Error("no leader");
    await eventually(async () => (await role(leader)) === "leader", 10_000, "leader ready");

    leader.relay.setCut(true);
    await eventually(async () => (await role(leader)) !== "leader", 10_000, "the cut-off leader giving up");
    await holderIs((h) => h === other.name, 15_000);
    await eventually(async () => (await role(other)) === "leader", 10_000, "the standby leading");
    // Its Lease is gone: the old leader must not be acting any more, whatever it sees.
    expect(await role(leader)).toMatch(/standby/);
    api.addPod(pending("after-partition"));
    await until(() => nodeOf("after-partition"), 15_000, "pod bound by the new leader");

    leader.relay.setCut(false);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await role(leader)).toBe("standby");
    expect(await role(other)).toBe("leader");
    expect(bindings()).toBe(1);
  }, 90_000);

  it("a leader killed between creating a pod and binding it: the next leader binds it once", async () => {
    const replicas = await Promise.all(["coord-a", "coord-b"].map(replica));
    const first = await holderIs(() => true);
    const leader = replicas.find((r) => r.name === first);
    if (!leader) throw new Error("no leader");
    await eventually(async () => (await role(leader)) === "leader", 10_000, "leader ready");
    // Bindings hang long enough for the leader to die after the create and before the bind.
    api.faults.delay({ method: "POST", pathPattern: "/binding", ms: 4_000, count: 1 });
    const request = scheduleCli("half-done", "half-1", "40s");
    running.push(request);
    await until(() => api.getPod("default", "half-done"), 10_000, "the pod created");
    leader.process.kill("SIGKILL");
    await holderIs((h) => h !== first, 20_000);
    expect(await request.exited).toBe(0);
    await until(() => nodeOf("half-done"), 15_000, "the pod bound");
    // The old leader's delayed Binding may still land after its death; either way exactly one succeeds.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(bindings()).toBe(1);
    expect(podCreates()).toBe(1);
    expect(request.stdout()).toMatch(/half-done/);
  }, 90_000);
});
