// For the files that run the coordinator on a real kube-apiserver: one control plane per file (starting one
// takes seconds), and per test a number for unique object names, a scratch directory for the scheduling
// store and the coordinator services started — stopped, every node and pod deleted and the directory
// removed after each test. It registers the hooks where it is called (none when `skip`: no binaries).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { CoordinatorService } from "../../coordinator/service.ts";
import {
  coordinatorRequests,
  deleteNode,
  type RealCluster,
  startCoordinatorOn,
  startRealCluster,
} from "../real-apiserver/cluster.ts";
import type { AuditRecord, RealApiServerOptions } from "./kube-apiserver.ts";

export interface SharedRealCluster {
  /** The file's control plane. */
  readonly cluster: RealCluster;
  /** This test's scratch directory (the scheduling store lives here). */
  readonly dir: string;
  /** `name` with this test's number: the control plane outlives each test, so names must not repeat. */
  unique(name: string): string;
  /** The coordinator service on the cluster as its ServiceAccount, stopped after the test. */
  start(): Promise<CoordinatorService>;
  /** Stops a service `start` gave before the test ends (a restart). */
  stop(service: CoordinatorService): Promise<void>;
  /** The coordinator's requests since this test began, from the audit log. */
  requests(): AuditRecord[];
}

export function useRealCluster(options: {
  topicRoot: string;
  logger: Logger;
  dirPrefix: string;
  apiServer?: RealApiServerOptions;
  /** The file's tests are skipped (no kube-apiserver binaries): start nothing. */
  skip?: boolean;
}): SharedRealCluster {
  let cluster: RealCluster | undefined;
  let dir: string | undefined;
  let seq = 0;
  let auditStart = 0;
  const services = new Set<CoordinatorService>();
  const started = () => {
    if (!cluster) throw new Error("useRealCluster: the control plane is not running");
    return cluster;
  };
  const scratch = () => {
    if (dir === undefined) throw new Error("useRealCluster: read outside a test");
    return dir;
  };

  if (!options.skip) registerHooks();
  function registerHooks() {
    beforeAll(async () => {
      cluster = await startRealCluster(options.apiServer);
    }, 120_000);
    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);
    beforeEach(async () => {
      seq++;
      dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
      auditStart = coordinatorRequests(started().api).length;
    });
    afterEach(async () => {
      for (const service of services) await service.stop();
      services.clear();
      const { core } = started();
      // Nodes of one test must not take part in the next.
      for (const n of (await core.listNode()).items) await deleteNode(core, n.metadata?.name ?? "");
      await core.deleteCollectionNamespacedPod({ namespace: "default", gracePeriodSeconds: 0 });
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    }, 60_000);
  }

  return {
    get cluster() {
      return started();
    },
    get dir() {
      return scratch();
    },
    unique: (name) => `${name}-${seq}`,
    async start() {
      const service = await startCoordinatorOn(started(), {
        topicRoot: options.topicRoot,
        logger: options.logger,
        storeDir: scratch(),
      });
      services.add(service);
      return service;
    },
    async stop(service) {
      services.delete(service);
      await service.stop();
    },
    requests: () => coordinatorRequests(started().api).slice(auditStart),
  };
}
