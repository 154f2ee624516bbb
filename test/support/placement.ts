// Test and benchmark support (not used at run time): ScheduleRequest builders, an MQTT client that sends
// requests and collects the decisions published to its reply topic, and fakes for the decision paths.
import type { V1Pod } from "@kubernetes/client-node";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { expect } from "vitest";
import { createAnalytics } from "../../coordinator/placement/analytics.ts";
import { createCore, type SchedulingCore } from "../../coordinator/placement/core.ts";
import { KubeRequestError } from "../../coordinator/placement/errors.ts";
import type { PodObject } from "../../coordinator/placement/inputs.ts";
import type { KubeActions, PodEvent } from "../../coordinator/placement/kube.ts";
import { createSerialQueue } from "../../coordinator/placement/serial.ts";
import { resolveSettings, type SchedulingSettings } from "../../coordinator/placement/settings.ts";
import { createSnapshotCache } from "../../coordinator/placement/snapshot-cache.ts";
import { openDecisionStore } from "../../coordinator/placement/store.ts";
import {
  buildSnapshot,
  createScheduler,
  type NodeInput,
  type Plugins,
} from "../../coordinator/scheduler/index.ts";
import {
  createMessage,
  DecisionStatus,
  decode,
  encode,
  type MessageInit,
  type ScheduleDecision,
  type ScheduleRequest,
  topicsFor,
} from "../../proto/index.ts";
import { testSchedulingSettings } from "./scheduling-settings.ts";

let counter = 0;

/** A valid request (nginx, 100m / 128Mi in `default`) with a fresh request id, replying to `clientId`. */
export function scheduleRequest(
  root: string,
  clientId: string,
  init: MessageInit<"scheduleRequest"> = {},
): ScheduleRequest {
  counter++;
  return createMessage("scheduleRequest", {
    requestId: `req-${process.pid}-${Date.now()}-${counter}`,
    replyTo: topicsFor(root).scheduleReply(clientId),
    podName: `pod-${counter}`,
    namespace: "default",
    image: "nginx:1.27",
    cpuRequest: "100m",
    memoryRequest: "128Mi",
    ...init,
  });
}

export interface Requester {
  readonly clientId: string;
  readonly client: MqttClient;
  /** Every decision received on the reply topic, in arrival order. */
  readonly decisions: ScheduleDecision[];
  /** Publishes `request` (QoS 1) and waits for the decision with its request id. */
  request(request: ScheduleRequest, timeoutMs?: number): Promise<ScheduleDecision>;
  /** Publishes raw bytes on {root}/schedule/request. */
  publishRaw(payload: Uint8Array): Promise<void>;
  /** Waits for the `n`-th decision (1-based) for `requestId`. */
  waitFor(requestId: string, n?: number, timeoutMs?: number): Promise<ScheduleDecision>;
  close(): Promise<void>;
}

export async function connectRequester(
  url: string,
  root: string,
  clientId = `tester-${++counter}`,
): Promise<Requester> {
  const topics = topicsFor(root);
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
  // As `k3s-fleet schedule` (mqtt/link.ts) does: request/reply must not wait for Nagle's algorithm.
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const decisions: ScheduleDecision[] = [];
  const waiters = new Set<() => void>();
  client.on("message", (topic, payload) => {
    if (topic !== topics.scheduleReply(clientId)) return;
    const decoded = decode("scheduleDecision", payload);
    if (!decoded.ok) return;
    decisions.push(decoded.message);
    for (const w of [...waiters]) w();
  });
  await client.subscribeAsync(topics.scheduleReply(clientId), { qos: 1 });
  const waitFor = (requestId: string, n = 1, timeoutMs = 10_000) =>
    new Promise<ScheduleDecision>((resolve, reject) => {
      const check = () => {
        const found = decisions.filter((d) => d.requestId === requestId);
        if (found.length >= n) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found[n - 1] as ScheduleDecision);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no decision #${n} for ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    clientId,
    client,
    decisions,
    async request(request, timeoutMs = 10_000) {
      const n = decisions.filter((d) => d.requestId === request.requestId).length + 1;
      const answer = waitFor(request.requestId, n, timeoutMs);
      await client.publishAsync(topics.scheduleRequest, Buffer.from(encode("scheduleRequest", request)), {
        qos: 1,
      });
      return answer;
    },
    async publishRaw(payload) {
      await client.publishAsync(topics.scheduleRequest, Buffer.from(payload), { qos: 1 });
    },
    waitFor,
    async close() {
      await client.endAsync();
    },
  };
}

// --- constructor-injected fakes for the decision paths (unit tests) -------------------------------------

/** A KubeActions double over an in-memory pod map; `fail` queues errors for the next calls of an operation. */
export function fakeKube(initial: PodObject[] = []) {
  const pods = new Map<string, V1Pod>();
  for (const p of initial) pods.set(`${p.metadata?.namespace ?? "default"}/${p.metadata?.name}`, p as V1Pod);
  const calls: string[] = [];
  const events: PodEvent[] = [];
  const failures: Record<"createPod" | "readPod" | "bind", KubeRequestError[]> = {
    createPod: [],
    readPod: [],
    bind: [],
  };
  let uid = 0;
  const take = (op: keyof typeof failures) => {
    const e = failures[op].shift();
    if (e) throw e;
  };
  const kube: KubeActions = {
    async createPod(pod) {
      calls.push(`create ${pod.metadata.namespace}/${pod.metadata.name}`);
      take("createPod");
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (pods.has(key))
        throw new KubeRequestError("create", { status: 409, reason: "AlreadyExists", message: "exists" });
      const created = structuredClone({
        ...pod,
        metadata: { ...pod.metadata, uid: `uid-${++uid}` },
      }) as V1Pod;
      pods.set(key, created);
      return structuredClone(created);
    },
    async readPod(namespace, name) {
      calls.push(`read ${namespace}/${name}`);
      take("readPod");
      const p = pods.get(`${namespace}/${name}`);
      return p && structuredClone(p);
    },
    async bind(ref, node) {
      calls.push(`bind ${ref.namespace}/${ref.name} ${node}`);
      take("bind");
      const p = pods.get(`${ref.namespace}/${ref.name}`);
      if (!p) throw new KubeRequestError("bind", { status: 404, reason: "NotFound", message: "not found" });
      if (p.spec?.nodeName)
        throw new KubeRequestError("bind", { status: 409, reason: "Conflict", message: "already assigned" });
      (p.spec as { nodeName?: string }).nodeName = node;
    },
    async recordEvent(e) {
      events.push(e);
    },
  };
  const fail = (
    op: keyof typeof failures,
    status: number | undefined,
    reason = "",
    message = `HTTP ${status}`,
  ) => failures[op].push(new KubeRequestError(op, { status, reason, message }));
  return { kube, pods, calls, events, fail };
}

/** A SchedulingCore on fixed nodes (engine, snapshot cache, queue, analytics, in-memory store). */
export function testCore(
  nodes: NodeInput[],
  settings: Partial<SchedulingSettings> = {},
  now: () => number = () => 1_000_000,
  plugins?: Plugins,
): SchedulingCore {
  const resolved = resolveSettings({
    ...testSchedulingSettings(),
    backoffInitialMs: 10,
    backoffMaxMs: 40,
    bindRetryDelayMs: 1,
    ...settings,
  });
  const scheduler = createScheduler(plugins ? { plugins } : {});
  return createCore({
    settings: resolved,
    scheduler,
    cache: createSnapshotCache({
      assumed: scheduler.assumed,
      maxAgeMs: 60_000,
      build: buildSnapshot,
      source: () => nodes,
    }),
    queue: createSerialQueue({ maxQueued: resolved.maxQueuedRequests }),
    analytics: createAnalytics({ window: 1000 }),
    store: openDecisionStore({ path: ":memory:", keepRecords: 1000 }),
    now,
    log: pino({ level: "silent" }),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
}

/** Sends one request per case and expects each rejected, its message naming the case's reason. */
export async function expectRejected(
  requester: Requester,
  root: string,
  cases: ReadonlyArray<readonly [MessageInit<"scheduleRequest"> | undefined, string]>,
  timeoutMs?: number,
): Promise<void> {
  for (const [init, reason] of cases) {
    const decision = await requester.request(scheduleRequest(root, requester.clientId, init), timeoutMs);
    expect(decision.status, reason).toBe(DecisionStatus.REJECTED);
    expect(decision.message).toContain(reason);
  }
}

/** Requests the default policy refuses (the schema's allowed namespaces, registries and sizes), each with
 *  the reason its rejection names. */
export const REFUSED_REQUESTS: ReadonlyArray<readonly [MessageInit<"scheduleRequest">, string]> = [
  [{ namespace: "kube-system" }, 'namespace "kube-system" is not allowed (allowed: default)'],
  [{ image: "ghcr.io/evil/miner:latest" }, "is not from an allowed registry (allowed: docker.io/library)"],
  [{ image: "evil/miner" }, "(docker.io/evil/miner) is not from an allowed registry"],
  [{ cpuRequest: "8" }, "cpu_request 8 exceeds the maximum 4"],
  [{ memoryLimit: "16Gi" }, "memory_limit 16Gi exceeds the maximum 8Gi"],
  [{ cpuRequest: "lots" }, 'cpu_request "lots" is not a Kubernetes quantity'],
  [{ podName: "" }, "pod_name is required"],
  [{ podName: "Not_A_Name" }, "is not a valid pod name"],
  [{ labels: { "app.kubernetes.io/managed-by": "me" } }, "is reserved for the coordinator"],
  [{ tolerations: [{ key: "", operator: "Exists" }] }, "tolerating every taint is not allowed"],
];

/** Publishes the same request twice, both copies in flight before either is answered. */
export async function publishTwice(requester: Requester, request: ScheduleRequest): Promise<void> {
  const payload = encode("scheduleRequest", request);
  await Promise.all([requester.publishRaw(payload), requester.publishRaw(payload)]);
}
