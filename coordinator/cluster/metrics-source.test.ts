// metricsSource(): an unserved metrics.k8s.io is "absent" (404) even though client-node reports upstream's
// plain-text 404 as a 500; a real failure of a served group stays a failure. The real kube-apiserver case is in
// test/real-apiserver/cluster-report.e2e.test.ts; here a loopback stub answers as upstream does.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeApiServer, startFakeApiServer } from "../../test/fake-apiserver/index.ts";
import { httpStatusOf } from "./errors.ts";
import { metricsSource } from "./metrics-source.ts";

let stub: Server | undefined;
let fake: FakeApiServer | undefined;
afterEach(async () => {
  await new Promise((r) => (stub ? stub.close(r) : r(undefined)));
  stub = undefined;
  await fake?.close();
  fake = undefined;
});

/** What kube-apiserver without metrics-server answers: discovery without the group, and a text 404. */
async function upstreamWithoutMetricsServer(): Promise<KubeConfig> {
  stub = createServer((req, res) => {
    if (req.url === "/apis") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ kind: "APIGroupList", apiVersion: "v1", groups: [] }));
      return;
    }
    res.statusCode = 404;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end("404 page not found\n");
  });
  await new Promise<void>((r) => stub?.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: "stub", server: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`, skipTLSVerify: true },
    { name: "u", token: "t" },
  );
  return kc;
}

describe("metricsSource", () => {
  it("reads an unserved metrics.k8s.io (plain-text 404) as 404, for nodes and pods", async () => {
    const source = metricsSource(await upstreamWithoutMetricsServer());
    expect(httpStatusOf(await source.getNodeMetrics().catch((e: unknown) => e))).toBe(404);
    expect(httpStatusOf(await source.getPodMetrics("default").catch((e: unknown) => e))).toBe(404);
  });

  it("keeps a 500 from a served metrics.k8s.io a 500", async () => {
    fake = await startFakeApiServer();
    fake.faults.failNext({ method: "GET", pathPattern: "/apis/metrics.k8s.io/v1beta1/nodes", status: 500 });
    const err = await metricsSource(fake.kubeConfig())
      .getNodeMetrics()
      .catch((e: unknown) => e);
    expect(httpStatusOf(err)).toBe(500);
  });

  it("passes the fake's JSON 404 through as it is", async () => {
    fake = await startFakeApiServer();
    fake.setMetricsAvailable(false);
    const err = await metricsSource(fake.kubeConfig())
      .getNodeMetrics()
      .catch((e: unknown) => e);
    expect(httpStatusOf(err)).toBe(404);
  });
});
