// Per test, for the end-to-end files that run the coordinator on the fake API server: a fresh server, a
// scratch directory for the scheduling store and the coordinator services started on them — stopped, the
// server closed and the directory removed after each test — plus the reads those files assert on (where a
// pod is bound, the Events about it, the requests the coordinator made). Call inside a describe (or at the
// top of a file): it registers the beforeEach/afterEach hooks.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { afterEach, beforeEach } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import { type FakeApiServer, type RequestRecord, startFakeApiServer } from "../fake-apiserver/index.ts";
import { type ClusterServiceOptions, startClusterService } from "./cluster-service.ts";

/** The fields of a core/v1 Event the tests read. */
export interface FakeEvent {
  reason?: string;
  message?: string;
  type?: string;
  reportingComponent?: string;
  involvedObject?: { name?: string; uid?: string };
}

export interface FakeCluster {
  /** This test's API server. */
  readonly api: FakeApiServer;
  /** This test's scratch directory (the scheduling store lives here). */
  readonly dir: string;
  /** The coordinator service on this test's server, stopped after the test. */
  start(options?: Partial<ClusterServiceOptions>): Promise<CoordinatorService>;
  /** Stops a service `start` gave before the test ends (a restart). */
  stop(service: CoordinatorService): Promise<void>;
  /** spec.nodeName of a pod, undefined while unbound (or when there is no such pod). */
  nodeOf(pod: string, namespace?: string): string | undefined;
  /** Events in "default" about `pod`, with `reason` when given. */
  eventsFor(pod: string, reason?: string): FakeEvent[];
  /** Pod creations and Binding posts the server answered. */
  podCreates(): RequestRecord[];
  bindingPosts(): RequestRecord[];
}

export function useFakeCluster(options: {
  topicRoot: string;
  logger: Logger;
  dirPrefix: string;
}): FakeCluster {
  let api: FakeApiServer | undefined;
  let dir: string | undefined;
  const services = new Set<CoordinatorService>();
  const current = () => {
    if (!api || dir === undefined) throw new Error("useFakeCluster: read outside a test");
    return { api, dir };
  };
  const posts = (suffix: string) =>
    current()
      .api.requests()
      .filter((r) => r.method === "POST" && r.path.endsWith(suffix));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
    api = await startFakeApiServer();
  });
  afterEach(async () => {
    for (const service of services) await service.stop();
    services.clear();
    await api?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    api = undefined;
    dir = undefined;
  });

  return {
    get api() {
      return current().api;
    },
    get dir() {
      return current().dir;
    },
    async start(overrides = {}) {
      const { api: server, dir: storeDir } = current();
      const service = await startClusterService({
        kubeconfigPath: server.kubeconfigPath,
        topicRoot: options.topicRoot,
        logger: options.logger,
        storeDir,
        ...overrides,
      });
      services.add(service);
      return service;
    },
    async stop(service) {
      services.delete(service);
      await service.stop();
    },
    nodeOf(pod, namespace = "default") {
      return (current().api.getPod(namespace, pod)?.spec as { nodeName?: string } | undefined)?.nodeName;
    },
    eventsFor(pod, reason) {
      return (current().api.events("default") as unknown as FakeEvent[]).filter(
        (e) => e.involvedObject?.name === pod && (reason === undefined || e.reason === reason),
      );
    },
    podCreates: () => posts("/pods"),
    bindingPosts: () => posts("/bindings"),
  };
}
