// The metrics.k8s.io source the poller reads: client-node's `Metrics`, made to say "absent" (404) when the
// API group is not served. A real kube-apiserver without metrics-server answers an unregistered group's path
// with the plain-text body "404 page not found"; client-node parses every answer as JSON and so reports that
// as an ApiException with code 500 ("Error occurred in metrics request: Unexpected token ..."), which the
// poller would treat as a failing scrape. On such a 500 this asks discovery (GET /apis, which every
// authenticated user may read) whether the group is served, and turns "not served" into a 404.
import { ApiException, ApisApi, type KubeConfig, Metrics } from "@kubernetes/client-node";
import type { MetricsSource } from "./metrics.ts";

export const METRICS_GROUP = "metrics.k8s.io";

export function metricsSource(kc: KubeConfig): MetricsSource {
  const metrics = new Metrics(kc);
  const apis = kc.makeApiClient(ApisApi);
  const served = async (): Promise<boolean> =>
    (await apis.getAPIVersions()).groups.some((g) => g.name === METRICS_GROUP);
  async function call<T>(scrape: () => Promise<T>): Promise<T> {
    try {
      return await scrape();
    } catch (err) {
      if (err instanceof ApiException && err.code === 500 && !(await served().catch(() => true))) {
        throw new ApiException(
          404,
          `${METRICS_GROUP} is not served by this API server (metrics-server not installed)`,
          undefined,
          {},
        );
      }
      throw err;
    }
  }
  return {
    getNodeMetrics: () => call(() => metrics.getNodeMetrics()),
    getPodMetrics: (namespace) => call(() => metrics.getPodMetrics(namespace)),
  };
}
