// What client-node's informer (ListWatch / makeInformer) does against apiserver behaviour: list then
// watch from the list's resourceVersion, resume after a clean stream end, relist after 410, and stop on
// errors. The coordinator's informer supervision is built on exactly these observations.
import {
  ApiException,
  CoreV1Api,
  type KubernetesObject,
  ListWatch,
  makeInformer,
  type V1Node,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./index.ts";

let api: FakeApiServer;
let core: CoreV1Api;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  api = await startFakeApiServer();
  core = api.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(() => api.close());
beforeEach(() => {
  for (const node of api.listNodes()) api.deleteNode(node.metadata.name ?? "");
  api.faults.reset();
  api.clearRequests();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Observed<T extends KubernetesObject> {
  informer: ListWatch<T>;
  log: string[];
  errors: unknown[];
  /** Reconnect delays ListWatch asked for (resolved immediately). */
  delays: number[];
}

/** A node informer as makeInformer builds it, but with an injected delay so backoff is observable. */
function nodeInformer(): Observed<V1Node> {
  const delays: number[] = [];
  const informer = new ListWatch<V1Node>(
    "/api/v1/nodes",
    new Watch(api.kubeConfig()),
    () => core.listNode(),
    false,
    undefined,
    undefined,
    {
      delayFn: async (ms: number) => {
        delays.push(ms);
      },
    },
  );
  const observed = { informer, log: [] as string[], errors: [] as unknown[], delays };
  informer.on("add", (n) => observed.log.push(`add ${n.metadata?.name}`));
  informer.on("update", (n) => observed.log.push(`update ${n.metadata?.name}`));
  informer.on("delete", (n) => observed.log.push(`delete ${n.metadata?.name}`));
  informer.on("error", (err) => observed.errors.push(err));
  stops.push(() => informer.stop());
  return observed;
}

const lists = () => api.requests().filter((r) => r.path === "/api/v1/nodes" && !r.watch);
const watches = () => api.requests().filter((r) => r.path === "/api/v1/nodes" && r.watch);
const names = (informer: ListWatch<V1Node>) =>
  informer
    .list()
    .map((n) => n.metadata?.name)
    .sort();
const label = (name: string, value: string) =>
  api.updateNode(name, (n) => {
    n.metadata.labels = { ...n.metadata.labels, touched: value };
  });

describe("makeInformer", () => {
  it("lists, then watches from the list's resourceVersion and sees ADDED/MODIFIED/DELETED", async () => {
    api.addNode(makeNode({ name: "a" }));
    const informer = makeInformer(api.kubeConfig(), "/api/v1/nodes", () => core.listNode());
    stops.push(() => informer.stop());
    const log: string[] = [];
    informer.on("add", (n) => log.push(`add ${n.metadata?.name}`));
    informer.on("update", (n) => log.push(`update ${n.metadata?.name}`));
    informer.on("delete", (n) => log.push(`delete ${n.metadata?.name}`));
    await informer.start();
    api.addNode(makeNode({ name: "b" }));
    label("a", "1");
    api.deleteNode("b");
    await vi.waitFor(() => expect(log).toEqual(["add a", "add b", "update a", "delete b"]));
    expect(informer.list().map((n) => n.metadata?.name)).toEqual(["a"]);
    // The watch started at the list's resourceVersion, before the three writes.
    expect(watches()[0]?.query.get("resourceVersion")).toBe(String(Number(api.resourceVersion) - 3));
  });

  it("filters pods with a label selector on a namespaced path", async () => {
    const informer = makeInformer<V1Pod>(
      api.kubeConfig(),
      "/api/v1/namespaces/default/pods",
      () => core.listNamespacedPod({ namespace: "default", labelSelector: "app=web" }),
      "app=web",
    );
    stops.push(() => informer.stop());
    const added: string[] = [];
    informer.on("add", (p) => added.push(p.metadata?.name ?? ""));
    await informer.start();
    api.addPod(makePod({ name: "web-1", labels: { app: "web" } }));
    api.addPod(makePod({ name: "db-1", labels: { app: "db" } }));
    api.addPod(makePod({ name: "web-2", labels: { app: "web" } }));
    await vi.waitFor(() => expect(added).toEqual(["web-1", "web-2"]));
    expect(
      api
        .requests()
        .find((r) => r.watch && r.path.endsWith("/pods"))
        ?.query.get("labelSelector"),
    ).toBe("app=web");
  });
});

describe("ListWatch when the stream ends", () => {
  it("resumes from its last resourceVersion after a clean end, without relisting", async () => {
    const { informer, log, delays } = nodeInformer();
    await informer.start();
    api.addNode(makeNode({ name: "a" }));
    await vi.waitFor(() => expect(log).toEqual(["add a"]));
    api.faults.dropWatches("end");
    await vi.waitFor(() => expect(watches()).toHaveLength(2));
    expect(watches()[1]?.query.get("resourceVersion")).toBe(informer.latestResourceVersion());
    label("a", "1");
    await vi.waitFor(() => expect(log).toEqual(["add a", "update a"]));
    expect(lists()).toHaveLength(1);
    expect(delays).toEqual([]); // events since the last connect reset the backoff
  });

  it("backs off 1 s, 2 s, ... when streams keep ending without events", async () => {
    const { informer, delays } = nodeInformer();
    await informer.start();
    for (let i = 1; i <= 3; i++) {
      await vi.waitFor(() => expect(api.openWatches()).toBe(1));
      api.faults.dropWatches("end");
      await vi.waitFor(() => expect(watches()).toHaveLength(i + 1));
    }
    expect(delays).toEqual([1000, 2000]);
  });

  it("stops with an error callback after an abrupt disconnect; start() again resumes from its resourceVersion", async () => {
    const { informer, log, errors } = nodeInformer();
    await informer.start();
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    api.faults.dropWatches("reset");
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(String(errors[0])).toContain("terminated");
    api.addNode(makeNode({ name: "missed" }));
    await new Promise((r) => setTimeout(r, 200));
    expect(api.openWatches()).toBe(0); // the informer did not reconnect on its own
    expect(log).toEqual([]);

    await informer.start(); // what the coordinator's supervisor must do
    await vi.waitFor(() => expect(log).toEqual(["add missed"]));
    expect(lists()).toHaveLength(1); // resumed by resourceVersion, no relist
  });

  it("relists after a 410 Expired ERROR event, reconciling deletions it missed", async () => {
    const { informer, log } = nodeInformer();
    api.addNode(makeNode({ name: "keep" }));
    api.addNode(makeNode({ name: "gone" }));
    await informer.start();
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    // While the stream is down, the cluster changes and the history window moves past the informer.
    api.faults.dropWatches("end");
    api.deleteNode("gone");
    api.addNode(makeNode({ name: "new" }));
    api.compact();
    await vi.waitFor(() => expect(names(informer)).toEqual(["keep", "new"]));
    expect(log).toEqual(["add gone", "add keep", "delete gone", "add new"]);
    expect(lists()).toHaveLength(2);
    expect(watches().map((w) => w.status)).toEqual([200, 200, 200]); // the 410 came inside a 200 stream
  });

  it("relists when the watch request itself is answered 410", async () => {
    const { informer } = nodeInformer();
    await informer.start();
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    api.faults.failNext({ pathPattern: "watch=true", status: 410 });
    api.faults.dropWatches("end");
    await vi.waitFor(() => expect(lists()).toHaveLength(2));
  });
});

describe("ListWatch on errors", () => {
  it("reports a failed list through the error callback; start() still resolves and nothing is watched", async () => {
    api.faults.failNext({ method: "GET", pathPattern: /\/nodes$/, status: 500 });
    const { informer, errors } = nodeInformer();
    await expect(informer.start()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ApiException);
    expect((errors[0] as ApiException<unknown>).code).toBe(500);
    expect(watches()).toHaveLength(0);
  });

  it("stops after a watch request answered 500 (error has statusCode 500)", async () => {
    const { informer, errors } = nodeInformer();
    await informer.start();
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    api.faults.failNext({ pathPattern: "watch=true", status: 500 });
    api.faults.dropWatches("end");
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatchObject({ statusCode: 500 });
    await new Promise((r) => setTimeout(r, 100));
    expect(api.openWatches()).toBe(0);
  });
});
