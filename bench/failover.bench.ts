// Coordinator failover, measured: two `k3s-fleet coordinator` replicas (real processes) on one Mosquitto and
// the fake Kubernetes API server; the leader is SIGKILLed again and again. For each kill: how long until the
// other holds the Lease, until it acts (its /readyz says leader), until a schedule request sent right after
// the kill is answered, and until a pod created right after the kill is bound. Then: requests lost, pods
// created or bound twice (every API call the fake received is counted). A plain script:
//   node bench/failover.bench.ts [--kills 20] [--timings default|short]
// default = kube-scheduler's 15 s / 10 s / 2 s; short = 3 s / 2 s / 500 ms. Bounded: each round gives up
// after 60 s, and the run ends by itself. Results: bench/failover-results.md.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { createMessage, decode, encode, topicsFor } from "../proto/index.ts";
import { makeNode, makePod, startFakeApiServer } from "../test/fake-apiserver/index.ts";
import { startMosquitto } from "../test/support/mosquitto.ts";
import {
  eventually,
  leaseHolder,
  type Replica,
  replicaRole,
  SHORT_TIMINGS,
  startReplica,
} from "../test/support/replicas.ts";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const KILLS = Number(arg("kills", "20"));
const PROFILE = arg("timings", "default");
const TIMINGS =
  PROFILE === "short" ? SHORT_TIMINGS : { leaseDuration: "15s", renewDeadline: "10s", retryPeriod: "2s" };
const ROUND_LIMIT_MS = 60_000;

const topics = topicsFor();
const dir = await mkdtemp(join(tmpdir(), "k3sf-failover-"));
const api = await startFakeApiServer();
const broker = await startMosquitto();
for (const name of ["edge-1", "edge-2", "edge-3"])
  api.addNode(makeNode({ name, cpu: "64", memory: "256Gi" }));
const kc = api.kubeConfig();

// The requesting client: resends an unanswered request (same id) every second, as `k3s-fleet schedule` does.
const clientId = "failover-bench";
const client = await mqtt.connectAsync(broker.url, { clientId, protocolVersion: 4 });
const answers = new Map<string, number>();
const answerCount = new Map<string, number>();
client.on("message", (_topic, payload) => {
  const decoded = decode("scheduleDecision", payload);
  if (!decoded.ok) return;
  const id = decoded.message.requestId;
  answerCount.set(id, (answerCount.get(id) ?? 0) + 1);
  if (!answers.has(id)) answers.set(id, performance.now());
});
await client.subscribeAsync(topics.scheduleReply(clientId), { qos: 1 });
const request = (round: number) =>
  createMessage("scheduleRequest", {
    requestId: randomUUID(),
    podName: `asked-${round}`,
    namespace: "default",
    image: "nginx:1.27",
    cpuRequest: "10m",
    memoryRequest: "16Mi",
    replyTo: topics.scheduleReply(clientId),
  });

const replicas = new Map<string, Replica>();
const start = async (name: string) =>
  replicas.set(name, await startReplica({ name, brokerUrl: broker.url, api, dir, timings: TIMINGS }));
await start("coord-a");
await start("coord-b");

interface Round {
  leaseMs: number;
  actingMs: number;
  answeredMs: number;
  boundMs: number;
}
const rounds: Round[] = [];
let lost = 0;
const nodeOf = (name: string) =>
  (api.getPod("default", name)?.spec as { nodeName?: string } | undefined)?.nodeName;

try {
  for (let round = 0; round < KILLS; round++) {
    const deadline = performance.now() + ROUND_LIMIT_MS;
    let leaderName = "";
    await eventually(
      async () => {
        leaderName = await leaseHolder(kc);
        const leader = replicas.get(leaderName);
        return leader !== undefined && (await replicaRole(leader)) === "leader";
      },
      ROUND_LIMIT_MS,
      "a leader",
    );
    const leader = replicas.get(leaderName) as Replica;
    const other = [...replicas.values()].find((r) => r !== leader) as Replica;
    await eventually(async () => (await replicaRole(other)) === "standby", ROUND_LIMIT_MS, "a warm standby");

    const killedAt = performance.now();
    leader.process.kill("SIGKILL");
    const req = request(round);
    const send = () =>
      client.publishAsync(topics.scheduleRequest, Buffer.from(encode("scheduleRequest", req)), { qos: 1 });
    await send();
    const resend = setInterval(() => void send(), 1_000);
    api.addPod(makePod({ name: `pending-${round}`, schedulerName: "k3s-fleet", requests: { cpu: "10m" } }));

    let leaseAt = 0;
    let actingAt = 0;
    let boundAt = 0;
    while (performance.now() < deadline && !(leaseAt && actingAt && boundAt && answers.has(req.requestId))) {
      if (!leaseAt && (await leaseHolder(kc)) === other.name) leaseAt = performance.now();
      if (leaseAt && !actingAt && (await replicaRole(other)) === "leader") actingAt = performance.now();
      if (!boundAt && nodeOf(`pending-${round}`)) boundAt = performance.now();
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(resend);
    const answeredAt = answers.get(req.requestId);
    if (answeredAt === undefined) {
      lost++;
      console.error(
        `round ${round + 1}: no answer; ${other.name} stderr:\n${other.process.stderr().slice(-4000)}`,
      );
    }
    rounds.push({
      leaseMs: leaseAt - killedAt,
      actingMs: actingAt - killedAt,
      answeredMs: (answeredAt ?? Number.NaN) - killedAt,
      boundMs: boundAt - killedAt,
    });
    console.error(`kill ${round + 1}/${KILLS}: ${JSON.stringify(rounds.at(-1))}`);
    await leader.process.exited;
    await start(leader.name); // back as a standby
  }
} catch (error) {
  // What the replicas said (warnings and errors) is the first thing to read when a round fails.
  for (const r of replicas.values())
    console.error(`--- ${r.name} stderr:\n${r.process.stderr().slice(-4000)}`);
  throw error;
} finally {
  for (const r of replicas.values()) {
    r.process.kill("SIGKILL");
    await r.process.exited;
    await r.relay.close();
  }
  await client.endAsync();
}

const posts = (re: RegExp, status?: number) =>
  api
    .requests()
    .filter((r) => r.method === "POST" && re.test(r.path) && (status === undefined || r.status === status))
    .length;
const stats = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    median: Math.round(at(0.5)),
    max: Math.round(sorted.at(-1) ?? Number.NaN),
    min: Math.round(sorted[0] ?? Number.NaN),
  };
};
const summary = {
  timings: TIMINGS,
  kills: rounds.length,
  leaseTakenMs: stats(rounds.map((r) => r.leaseMs)),
  actingMs: stats(rounds.map((r) => r.actingMs)),
  requestAnsweredMs: stats(rounds.map((r) => r.answeredMs)),
  pendingPodBoundMs: stats(rounds.map((r) => r.boundMs)),
  requestsLost: lost,
  podsCreated: posts(/\/pods$/, 201),
  podsExpected: rounds.length,
  bindingsSucceeded: posts(/\/bindings?$/, 201),
  bindingsExpected: rounds.length * 2,
  bindingAttempts: posts(/\/bindings?$/),
  repliesPerRequest: stats([...answerCount.values()]),
  machine: { cpus: cpus().length, loadavg1: Number(loadavg()[0]?.toFixed(1)) },
};
console.log(JSON.stringify(summary, null, 2));
await broker.stop();
await api.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
