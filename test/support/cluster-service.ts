// The coordinator service on a Kubernetes API (the fake server or a real kube-apiserver) as the end-to-end
// files start it: the embedded broker, the cluster at `kubeconfigPath`, scheduling with its store in
// `storeDir` and fast retries (100 ms doubling to 400 ms); resolved once its informers have synced.
import { join } from "node:path";
import type { Logger } from "pino";
import {
  type CoordinatorService,
  type ServiceOptions,
  startCoordinatorService,
} from "../../coordinator/service.ts";
import { testServiceOptions } from "./service.ts";
import { until } from "./until.ts";

export interface ClusterServiceOptions {
  kubeconfigPath: string;
  topicRoot: string;
  logger: Logger;
  /** Scheduling store directory; without one, scheduling runs on the tests' defaults (an in-memory store). */
  storeDir?: string;
  /** metrics.k8s.io polling; default 0 (off). */
  metricsIntervalMs?: number;
  /** Default 5 s. */
  connectTimeoutMs?: number;
  /** How long the informers may take to sync; default 5 s. */
  syncTimeoutMs?: number;
  /** Other service options a test is about (leader election, the assumed sampling interval). */
  extra?: Partial<Omit<ServiceOptions, "kubernetes" | "scheduling" | "topicRoot" | "logger">>;
}

export function clusterServiceOptions(options: ClusterServiceOptions): ServiceOptions {
  const { storeDir } = options;
  return testServiceOptions({
    ...options.extra,
    topicRoot: options.topicRoot,
    kubernetes: {
      kubeconfigPath: options.kubeconfigPath,
      env: {},
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      metricsIntervalMs: options.metricsIntervalMs ?? 0,
    },
    ...(storeDir
      ? {
          scheduling: {
            storePath: join(storeDir, "scheduling.sqlite"),
            backoffInitialMs: 100,
            backoffMaxMs: 400,
          },
        }
      : {}),
    logger: options.logger,
  });
}

export async function startClusterService(options: ClusterServiceOptions): Promise<CoordinatorService> {
  const service = await startCoordinatorService(clusterServiceOptions(options));
  try {
    await until(() => service.cluster?.synced(), options.syncTimeoutMs ?? 5000, "informers synced");
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
