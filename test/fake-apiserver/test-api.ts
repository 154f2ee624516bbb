// The in-process side of the fake: what a test uses to set up cluster state (as a kubelet, the node
// controllers or metrics-server would) and to observe what the code under test did. Writes go through the
// same defaulting, validation and store as API requests, so watchers see them as ADDED/MODIFIED/DELETED.
import { createObject, replaceObject, type ServerContext } from "./handlers.ts";
import type { ContainerUsage, MetricsState, Usage } from "./metrics.ts";
import { podDisruptionBudgets } from "./pdbs.ts";
import { coreEvents, namespaces, nodes, pods, type ResourceDef } from "./resources.ts";
import { notFound } from "./status.ts";
import { persistentVolumeClaims, persistentVolumes, storageClasses } from "./storage.ts";
import { timestamp } from "./time.ts";
import { isObject, type JsonObject, type KubeObject } from "./types.ts";

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

interface TestContext extends ServerContext {
  metrics: MetricsState;
}

function asObject(value: unknown): KubeObject {
  return structuredClone(value) as KubeObject;
}

export class TestApi {
  readonly #ctx: TestContext;

  constructor(ctx: TestContext) {
    this.#ctx = ctx;
  }

  /** The store's current resourceVersion (the latest write). */
  get resourceVersion(): string {
    return String(this.#ctx.store.resourceVersion);
  }

  addNamespace(name: string): KubeObject {
    return createObject(this.#ctx, namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  /** Registers a node (e.g. from makeNode) as the kubelet would; validated like an API create. */
  addNode(node: object): KubeObject {
    return createObject(this.#ctx, nodes, asObject(node));
  }

  /** Applies `mutate` to a copy of the stored node (spec and status alike) and writes it back. */
  updateNode(name: string, mutate: (node: KubeObject) => void): KubeObject {
    return this.#mutate(nodes, undefined, name, mutate);
  }

  deleteNode(name: string): void {
    this.#ctx.store.delete({ resource: "nodes" }, undefined, name);
  }

  getNode(name: string): KubeObject | undefined {
    return this.#ctx.store.get("nodes", undefined, name);
  }

  listNodes(): KubeObject[] {
    return this.#ctx.store.list("nodes");
  }

  /** Creates a pod (e.g. from makePod) with the apiserver's defaulting; returns the stored pod. */
  addPod(pod: object): KubeObject {
    const obj = asObject(pod);
    obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
    obj.metadata.namespace ??= "default";
    return createObject(this.#ctx, pods, obj);
  }

  getPod(namespace: string, name: string): KubeObject | undefined {
    return this.#ctx.store.get("pods", namespace, name);
  }

  listPods(namespace?: string): KubeObject[] {
    return this.#ctx.store.list("pods", namespace);
  }

  updatePod(namespace: string, name: string, mutate: (pod: KubeObject) => void): KubeObject {
    return this.#mutate(pods, namespace, name, mutate);
  }

  deletePod(namespace: string, name: string): void {
    this.#ctx.store.delete({ resource: "pods" }, namespace, name);
  }

  /** Creates a PersistentVolumeClaim (default namespace "default"); returns the stored claim. */
  addClaim(claim: object): KubeObject {
    const obj = asObject(claim);
    obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
    obj.metadata.namespace ??= "default";
    return createObject(this.#ctx, persistentVolumeClaims, obj);
  }

  getClaim(namespace: string, name: string): KubeObject | undefined {
    return this.#ctx.store.get("persistentvolumeclaims", namespace, name);
  }

  listClaims(namespace?: string): KubeObject[] {
    return this.#ctx.store.list("persistentvolumeclaims", namespace);
  }

  /** Spec and status alike, as the PV controller writes them (e.g. binding a claim to a volume). */
  updateClaim(namespace: string, name: string, mutate: (claim: KubeObject) => void): KubeObject {
    return this.#mutate(persistentVolumeClaims, namespace, name, mutate);
  }

  deleteClaim(namespace: string, name: string): void {
    this.#ctx.store.delete({ resource: "persistentvolumeclaims" }, namespace, name);
  }

  addVolume(pv: object): KubeObject {
    return createObject(this.#ctx, persistentVolumes, asObject(pv));
  }

  getVolume(name: string): KubeObject | undefined {
    return this.#ctx.store.get("persistentvolumes", undefined, name);
  }

  updateVolume(name: string, mutate: (pv: KubeObject) => void): KubeObject {
    return this.#mutate(persistentVolumes, undefined, name, mutate);
  }

  addStorageClass(sc: object): KubeObject {
    return createObject(this.#ctx, storageClasses, asObject(sc));
  }

  /** Moves a pod to `phase` the way its kubelet would report it (conditions, startTime, container states). */
  setPodPhase(namespace: string, name: string, phase: PodPhase): KubeObject {
    const now = timestamp(this.#ctx.store.now());
    return this.#mutate(pods, namespace, name, (pod) => {
      const spec: JsonObject = isObject(pod.spec) ? pod.spec : {};
      const status: JsonObject = isObject(pod.status) ? pod.status : {};
      const running = phase === "Running";
      status.phase = phase;
      if (phase !== "Pending") status.startTime ??= now;
      const flag = running ? "True" : "False";
      const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
      for (const type of ["Initialized", "Ready", "ContainersReady"]) {
        const value = type === "Initialized" ? "True" : flag;
        const existing = conditions.find((c) => c.type === type);
        if (existing) {
          if (existing.status !== value) existing.lastTransitionTime = now;
          existing.status = value;
        } else conditions.push({ type, status: value, lastProbeTime: null, lastTransitionTime: now });
      }
      status.conditions = conditions;
      const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
      status.containerStatuses = containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: "",
        ready: running,
        restartCount: 0,
        started: running,
        state: running
          ? { running: { startedAt: now } }
          : phase === "Pending"
            ? { waiting: { reason: "ContainerCreating" } }
            : {
                terminated: {
                  exitCode: phase === "Succeeded" ? 0 : 1,
                  reason: phase === "Succeeded" ? "Completed" : "Error",
                  startedAt: now,
                  finishedAt: now,
                },
              },
      }));
      if (running) status.podIP ??= "10.42.0.10";
      pod.status = status;
    });
  }

  /**
   * Creates a PodDisruptionBudget and, as the disruption controller would, sets its status
   * (e.g. `{ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 }`).
   */
  addPdb(pdb: object, status: JsonObject = {}): KubeObject {
    const obj = asObject(pdb);
    obj.metadata = isObject(obj.metadata) ? obj.metadata : {};
    obj.metadata.namespace ??= "default";
    const created = createObject(this.#ctx, podDisruptionBudgets, obj);
    return this.#mutate(
      podDisruptionBudgets,
      created.metadata.namespace,
      created.metadata.name ?? "",
      (p) => {
        p.status = { observedGeneration: 1, ...status };
      },
    );
  }

  /** Events recorded so far (core/v1 form, whichever API created them), oldest first. */
  events(namespace?: string): KubeObject[] {
    return this.#ctx.store
      .list("events", namespace)
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
  }

  addEvent(event: object): KubeObject {
    return createObject(this.#ctx, coreEvents, asObject(event));
  }

  /** What metrics-server would report for a node (cpu like "250m" or "1", memory like "512Mi"). */
  setNodeMetrics(name: string, usage: Usage): void {
    this.#ctx.metrics.setNode(name, usage, this.#ctx.store.now());
  }

  /** Per-container usage; a single Usage is reported for the pod's first container. */
  setPodMetrics(namespace: string, name: string, usage: Usage | ContainerUsage[]): void {
    let containers: ContainerUsage[];
    if (Array.isArray(usage)) containers = usage;
    else {
      const pod = this.getPod(namespace, name);
      const first =
        isObject(pod?.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers[0] : undefined;
      containers = [{ name: isObject(first) ? String(first.name) : name, ...usage }];
    }
    this.#ctx.metrics.setPod(namespace, name, containers, this.#ctx.store.now());
  }

  /** false: metrics-server absent — metrics.k8s.io disappears from discovery and its paths are 404. */
  setMetricsAvailable(available: boolean): void {
    this.#ctx.metrics.available = available;
  }

  /** Drops the watch history: a watch from any resourceVersion older than now gets 410 Expired. */
  compact(): void {
    this.#ctx.store.compact();
  }

  #mutate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    mutate: (obj: KubeObject) => void,
  ): KubeObject {
    const current = this.#ctx.store.get(def.storage, namespace, name);
    if (!current) throw notFound(def.resource, name, def.group);
    const copy = structuredClone(current);
    mutate(copy);
    return replaceObject(this.#ctx, def, copy, current);
  }
}
