// TLS, kubeconfig, authentication and discovery, driven with the real @kubernetes/client-node.
import { readFileSync } from "node:fs";
import { connect, type PeerCertificate } from "node:tls";
import {
  ApisApi,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type V1Node,
  VersionApi,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, makeNode, startFakeApiServer } from "./index.ts";
import { rawRequest } from "./raw-client.ts";

let api: FakeApiServer;

beforeAll(async () => {
  api = await startFakeApiServer({ token: "s3cret" });
  api.addNode(makeNode({ name: "n1" }));
});
afterAll(() => api.close());

function peerCertificate(host: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: api.port, servername: host, ca: api.caCert }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("kubeconfig and TLS", () => {
  it("writes a kubeconfig with the CA inline, the server URL, a token user and a current context", () => {
    const config = parse(readFileSync(api.kubeconfigPath, "utf8"));
    expect(config["current-context"]).toBe("fake");
    expect(config.clusters[0].cluster.server).toBe(api.url);
    expect(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(
      api.caCert,
    );
    expect(config.users[0].user.token).toBe("s3cret");
    expect(api.kubeConfig().getCurrentCluster()?.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("serves a certificate signed by the generated CA for 127.0.0.1 and localhost", async () => {
    const cert = await peerCertificate("localhost");
    expect(cert.subjectaltname).toContain("IP Address:127.0.0.1");
    expect(cert.subjectaltname).toContain("DNS:localhost");
  });

  it("is not trusted without the CA", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: api.url, skipTLSVerify: false }],
      users: [{ name: "u", token: "s3cret" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const error = await kc
      .makeApiClient(CoreV1Api)
      .listNode()
      .catch((err: unknown) => err);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("is reached through the kubeconfig by the real client", async () => {
    const nodes = await api.kubeConfig().makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(["n1"]);
  });
});

describe("authentication", () => {
  it("answers 401 Unauthorized without a token", async () => {
    const kc = api.kubeConfig();
    kc.loadFromOptions({
      clusters: kc.getClusters(),
      users: [{ name: "anonymous" }],
      contexts: [{ name: "anon", cluster: "fake", user: "anonymous" }],
      currentContext: "anon",
    });
    const failure = await failureOf(kc.makeApiClient(CoreV1Api).listNode());
    expect(failure.code).toBe(401);
  });

  it("answers 401 with a Status body for a wrong token", async () => {
    const res = await rawRequest(api, "GET", "/api/v1/nodes", { token: "wrong" });
    expect(res.code).toBe(401);
    expect(res.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Unauthorized",
      reason: "Unauthorized",
      code: 401,
    });
    expect(api.requests().at(-1)).toMatchObject({ method: "GET", path: "/api/v1/nodes", status: 401 });
  });
});

describe("discovery", () => {
  it("serves /version", async () => {
    const version = await api.kubeConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/\+k3s/);
  });

  it("lists core resources with their subresources in /api/v1", async () => {
    const list = await api.kubeConfig().makeApiClient(CoreV1Api).getAPIResources();
    const names = list.resources.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "pods",
        "pods/binding",
        "pods/status",
        "nodes",
        "nodes/status",
        "events",
        "bindings",
      ]),
    );
    expect(list.resources.find((r) => r.name === "pods")).toMatchObject({ namespaced: true, kind: "Pod" });
  });

  it("lists events.k8s.io, storage.k8s.io and metrics.k8s.io in /apis", async () => {
    const groups = await api.kubeConfig().makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(["events.k8s.io", "storage.k8s.io", "metrics.k8s.io"]);
    const res = await rawRequest(api, "GET", "/apis/metrics.k8s.io/v1beta1");
    const list = res.json() as { resources: Array<{ kind: string }> };
    expect(list.resources.map((r) => r.kind)).toEqual(["NodeMetrics", "PodMetrics"]);
  });

  it("is enough for KubernetesObjectApi to resolve kinds to paths", async () => {
    const objects = KubernetesObjectApi.makeApiClient(api.kubeConfig());
    const node = await objects.read<V1Node>({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    expect(node.metadata?.labels?.["kubernetes.io/hostname"]).toBe("n1");
  });

  it("answers unknown paths with a NotFound Status", async () => {
    const res = await rawRequest(api, "GET", "/apis/apps/v1/deployments");
    expect(res.code).toBe(404);
    expect(res.json()).toMatchObject({
      reason: "NotFound",
      message: "the server could not find the requested resource",
    });
  });
});
