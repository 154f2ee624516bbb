// What the real-API-server tests share: a control plane (test/support/kube-apiserver.ts) with the project's
// own RBAC from deploy/k3s applied, the coordinator's identity (a ServiceAccount token from the TokenRequest
// API, never the admin), and the object helpers the fake server's test API offered (nodes created as
// objects with Ready status, pod phases set through the status subresource, Events and requests read back).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CoreV1Api, type CoreV1Event, type V1Node, type V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { makeNode, type NodeSpecInput } from "../fake-apiserver/builders.ts";
import { ROOT } from "../support/cli.ts";
import { startClusterService } from "../support/cluster-service.ts";
import {
  type AuditRecord,
  type RealApiServer,
  type RealApiServerOptions,
  startRealApiServer,
} from "../support/kube-apiserver.ts";
import { kubeBinaries } from "../support/kube-binaries.ts";

export const COORDINATOR_SA = { namespace: "k3s-fleet", name: "k3s-fleet-coordinator" };
export const COORDINATOR_USER = `system:serviceaccount:${COORDINATOR_SA.namespace}:${COORDINATOR_SA.name}`;

const run = promisify(execFile);

export interface RealCluster {
  api: RealApiServer;
  /** Admin client (the test's own hands). */
  core: CoreV1Api;
  /** Kubeconfig with the coordinator's ServiceAccount token: what the service is started with. */
  coordinatorKubeconfig: string;
  /** kubectl as admin. */
  kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** kubectl with another kubeconfig (e.g. the coordinator's). */
  kubectlAs(kubeconfig: string, ...args: string[]): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** A real control plane with deploy/k3s's namespace and RBAC applied and a token for the coordinator. */
export async function startRealCluster(options: RealApiServerOptions = {}): Promise<RealCluster> {
  const api = await startRealApiServer(options);
  try {
    const kubectlAs = (kubeconfig: string, ...args: string[]) =>
      run(kubeBinaries().kubectl, [`--kubeconfig=${kubeconfig}`, ...args], { cwd: ROOT, timeout: 60_000 });
    const kubectl = (...args: string[]) => kubectlAs(api.kubeconfigPath, ...args);
    await kubectl("apply", "-f", "deploy/k3s/00-namespace.yaml", "-f", "deploy/k3s/10-rbac.yaml");
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({
      ...COORDINATOR_SA,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const coordinatorKubeconfig = api.writeKubeconfig("coordinator", token.status?.token ?? "");
    return { api, core, coordinatorKubeconfig, kubectl, kubectlAs, stop: () => api.stop() };
  } catch (err) {
    await api.stop();
    throw err;
  }
}

/** Creates the Node as the kubelet registers it, posts its status (capacity, conditions) as it does, and
 * leaves it with the taints the node controllers would (none when Ready). */
export async function addNode(
  core: CoreV1Api,
  input: NodeSpecInput & { annotations?: Record<string, string> },
) {
  const node = makeNode(input) as V1Node;
  node.metadata = {
    ...node.metadata,
    annotations: { ...node.metadata?.annotations, ...input.annotations },
  };
  const created = await core.createNode({ body: node });
  const withStatus = await core.replaceNodeStatus({
    name: input.name,
    body: { ...created, status: node.status },
  });
  // Admission (TaintNodesByCondition) taints a new node not-ready; the node lifecycle controller, which does
  // not run here, lifts that once the node is Ready. Do its part: the taints are the ones makeNode gives.
  return core.replaceNode({
    name: input.name,
    body: { ...withStatus, spec: { ...withStatus.spec, taints: node.spec?.taints } },
  });
}

export async function deleteNode(core: CoreV1Api, name: string): Promise<void> {
  await core.deleteNode({ name });
}

export async function addPod(core: CoreV1Api, pod: unknown): Promise<V1Pod> {
  const body = pod as V1Pod;
  return core.createNamespacedPod({ namespace: body.metadata?.namespace ?? "default", body });
}

/** What a kubelet reports: the phase (and Ready for Running) through the status subresource. */
export async function setPodPhase(core: CoreV1Api, namespace: string, name: string, phase: string) {
  const pod = await core.readNamespacedPod({ namespace, name });
  const now = new Date();
  pod.status = {
    ...pod.status,
    phase,
    ...(phase === "Running"
      ? {
          startTime: now,
          conditions: [
            ...(pod.status?.conditions ?? []).filter((c) => c.type !== "Ready"),
            { type: "Ready", status: "True", lastTransitionTime: now },
          ],
        }
      : {}),
  };
  return core.replaceNamespacedPodStatus({ namespace, name, body: pod });
}

export async function nodeOf(core: CoreV1Api, name: string, namespace = "default") {
  try {
    return (await core.readNamespacedPod({ namespace, name })).spec?.nodeName;
  } catch {
    return undefined;
  }
}

/** Events about a pod (core/v1 view of the one Event storage, as kubectl describe shows them). */
export async function eventsFor(core: CoreV1Api, pod: string, reason?: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${pod}${reason ? `,reason=${reason}` : ""}`,
  });
  return list.items;
}

/** The coordinator's requests the API server answered, from its audit log. */
export function coordinatorRequests(api: RealApiServer): AuditRecord[] {
  return api.audit().filter((r) => r.user.username === COORDINATOR_USER);
}

export const isCall =
  (verb: string, resource: string, subresource?: string) =>
  (r: AuditRecord): boolean =>
    r.verb === verb && r.objectRef?.resource === resource && r.objectRef?.subresource === subresource;

/** Polls an async probe (an API read) until it returns something truthy; bounded. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CoordinatorOnOptions {
  topicRoot: string;
  logger: Logger;
  /** Scheduling store directory; without one the service runs without the scheduling options. */
  storeDir?: string;
  /** metrics.k8s.io polling; default 0 (off). */
  metricsIntervalMs?: number;
  defaultIntervalMs?: number;
}

/** The coordinator service on this cluster as its ServiceAccount, resolved once its informers synced. */
export async function startCoordinatorOn(
  cluster: RealCluster,
  options: CoordinatorOnOptions,
): Promise<CoordinatorService> {
  return startClusterService({
    kubeconfigPath: cluster.coordinatorKubeconfig,
    topicRoot: options.topicRoot,
    logger: options.logger,
    storeDir: options.storeDir,
    metricsIntervalMs: options.metricsIntervalMs,
    connectTimeoutMs: 10_000,
    syncTimeoutMs: 10_000,
    extra: options.defaultIntervalMs ? { defaultIntervalMs: options.defaultIntervalMs } : {},
  });
}
