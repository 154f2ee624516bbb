// Supervised informers with the real client-node against the fake API server: they see every change,
// survive dropped connections, watch errors, expired resourceVersions and failed lists, and keep the
// cache right throughout. The supervisor's backoff is also checked on its own with manual timers.
import { EventEmitter } from "node:events";
import type { V1Node } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createBackoff } from "../../common/backoff.ts";
import {
  type FakeApiServer,
  makeNode,
  makePod,
  startFakeApiServer,
} from "../../test/fake-apiserver/index.ts";
import { captureLogger, manualTimers, WARN } from "../../test/support/cluster.ts";
import type { ClusterEmitter } from "./events.ts";
import {
  type CachedInformer,
  type ClusterInformers,
  startInformers,
  superviseInformer,
} from "./informers.ts";

const silent = pino({ level: "silent" });

describe("startInformers against the fake API server", () => {
  let api: FakeApiServer;
  const running: ClusterInformers[] = [];

  beforeAll(async () => {
    api = await startFakeApiServer();
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.faults.reset();
    for (const pod of api.listPods()) api.deletePod(pod.metadata.namespace ?? "", pod.metadata.name ?? "");
    for (const node of api.listNodes()) api.deleteNode(node.metadata.name ?? "");
    api.clearRequests();
  });
  afterEach(async () => {
    for (const informers of running.splice(0)) await informers.stop();
  });

  async function start(logger = silent) {
    // Subscribed before the first list, so the initial adds and resyncs are seen too.
    const events: ClusterEmitter = new EventEmitter();
    const log: string[] = [];
    events.on("node", (type, node) => log.push(`node ${type} ${node.metadata?.name}`));
    events.on("pod", (type, pod) => log.push(`pod ${type} ${pod.metadata?.name}`));
    events.on("resync", (kind) => log.push(`resync ${kind}`));
    const informers = await startInformers({
      kc: api.kubeConfig(),
      logger,
      events,
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
    });
    running.push(informers);
    return { informers, log };
  }

  const nodeNames = (i: ClusterInformers) =>
    i.nodes
      .list()
      .map((n) => n.metadata?.name)
      .sort();
  const podNames = (i: ClusterInformers) =>
    i.pods
      .list()
      .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)
      .sort();
  const lists = (path: string) => api.requests().filter((r) => r.path === path && !r.watch);
  const label = (name: string, value: string) =>
    api.updateNode(name, (n) => {
      n.metadata.labels = { ...n.metadata.labels, touched: value };
    });

  it("lists, syncs, and sees add/update/delete of nodes and pods in every namespace", async () => {
    api.addNode(makeNode({ name: "a" }));
    api.addPod(makePod({ name: "p0", nodeName: "a" }));
    const { informers, log } = await start();
    await informers.whenSynced();
    expect(informers.synced()).toBe(true);
    expect(nodeNames(informers)).toEqual(["a"]);
    expect(podNames(informers)).toEqual(["default/p0"]);
    await vi.waitFor(() => expect(log).toContain("resync pod"));

    api.addNode(makeNode({ name: "b" }));
    label("a", "1");
    api.deleteNode("b");
    api.addPod(makePod({ name: "p1", namespace: "kube-system" }));
    api.setPodPhase("default", "p0", "Running");
    api.deletePod("kube-system", "p1");
    await vi.waitFor(() =>
      expect(log.filter((l) => !l.startsWith("resync"))).toEqual(
        expect.arrayContaining([
          "node add a",
          "pod add p0",
          "node add b",
          "node update a",
          "node delete b",
          "pod add p1",
          "pod update p0",
          "pod delete p1",
        ]),
      ),
    );
    expect(nodeNames(informers)).toEqual(["a"]);
    expect(informers.nodes.get("a")?.metadata?.labels?.touched).toBe("1");
    expect(informers.pods.get("p0", "default")?.status?.phase).toBe("Running");
    expect(informers.nodes.restarts + informers.pods.restarts).toBe(0);
  });

  it("restarts after an abrupt disconnect (TypeError: terminated) and resumes without relisting", async () => {
    const { logger, lines } = captureLogger();
    const { informers } = await start(logger);
    await informers.whenSynced();
    await vi.waitFor(() => expect(api.openWatches()).toBe(2));
    api.faults.dropWatches("reset");
    api.addNode(makeNode({ name: "missed" }));
    api.addPod(makePod({ name: "missed-pod" }));
    await vi.waitFor(() => expect(nodeNames(informers)).toEqual(["missed"]));
    await vi.waitFor(() => expect(podNames(informers)).toEqual(["default/missed-pod"]));
    expect(informers.nodes.restarts).toBe(1);
    expect(informers.pods.restarts).toBe(1);
    expect(lists("/api/v1/nodes")).toHaveLength(1); // resumed from its resourceVersion
    // Still watching: later changes arrive too.
    api.addNode(makeNode({ name: "later" }));
    await vi.waitFor(() => expect(nodeNames(informers)).toEqual(["later", "missed"]));
    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings.map((l) => l.msg).sort()).toEqual([
      "node informer stopped; restarting",
      "pod informer stopped; restarting",
    ]);
    expect(warnings[0]?.err).toMatchObject({ code: "K3SF_ERR_KUBE_INFORMER" });
    await vi.waitFor(() => expect(lines.some((l) => l.msg === "node informer watching again")).toBe(true));
  });

  it("restarts after the watch request is answered 500", async () => {
    const { informers } = await start();
    await informers.whenSynced();
    await vi.waitFor(() => expect(api.openWatches()).toBe(2));
    api.faults.failNext({ pathPattern: "/api/v1/nodes?watch=true", status: 500 });
    api.faults.dropWatches("end"); // the node informer reconnects at once and gets the 500
    await vi.waitFor(() => expect(informers.nodes.restarts).toBe(1));
    api.addNode(makeNode({ name: "after-500" }));
    await vi.waitFor(() => expect(nodeNames(informers)).toEqual(["after-500"]));
    expect(
      api
        .requests()
        .filter((r) => r.path === "/api/v1/nodes" && r.watch)
        .map((r) => r.status),
    ).toEqual(expect.arrayContaining([200, 500, 200]));
    expect(informers.pods.restarts).toBe(0);
  });

  it("relists after 410 Expired (clean stream end + compacted history): deletions it missed are applied", async () => {
    api.addNode(makeNode({ name: "keep" }));
    api.addNode(makeNode({ name: "gone" }));
    const { informers, log } = await start();
    await informers.whenSynced();
    await vi.waitFor(() => expect(api.openWatches()).toBe(2));
    api.faults.dropWatches("end");
    api.deleteNode("gone");
    api.addNode(makeNode({ name: "new" }));
    api.compact();
    await vi.waitFor(() => expect(nodeNames(informers)).toEqual(["keep", "new"]));
    expect(lists("/api/v1/nodes")).toHaveLength(2);
    expect(log).toEqual(expect.arrayContaining(["node delete gone", "node add new"]));
    await vi.waitFor(() => expect(log.filter((l) => l === "resync node")).toHaveLength(2));
    expect(informers.nodes.restarts).toBe(0); // a 410 is client-node's to handle, not an outage
  });

  it("relists after a restart whose resourceVersion has expired (dropped connection + compaction)", async () => {
    api.addPod(makePod({ name: "old" }));
    const { informers, log } = await start();
    await informers.whenSynced();
    await vi.waitFor(() => expect(api.openWatches()).toBe(2));
    api.faults.dropWatches("reset");
    api.deletePod("default", "old");
    api.addPod(makePod({ name: "fresh", namespace: "kube-system", nodeName: "n1" }));
    api.compact();
    await vi.waitFor(() => expect(podNames(informers)).toEqual(["kube-system/fresh"]));
    expect(informers.pods.restarts).toBe(1);
    expect(lists("/api/v1/pods")).toHaveLength(2);
    expect(log).toEqual(expect.arrayContaining(["pod delete old", "pod add fresh"]));
  });

  it("retries a failed initial list until synced", async () => {
    api.addNode(makeNode({ name: "a" }));
    api.faults.failNext({ method: "GET", pathPattern: /^\/api\/v1\/nodes$/, status: 500, count: 3 });
    const { informers } = await start();
    expect(informers.nodes.synced).toBe(false); // start() resolves after the first (failed) attempt
    await informers.whenSynced();
    expect(nodeNames(informers)).toEqual(["a"]);
    expect(lists("/api/v1/nodes").map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(informers.nodes.restarts).toBe(3);
  });

  it("keeps the cache and later events flowing when a listener throws", async () => {
    const { logger, lines } = captureLogger();
    const { informers, log } = await start(logger);
    informers.events.prependListener("node", () => {
      throw new Error("listener bug");
    });
    await informers.whenSynced();
    api.addNode(makeNode({ name: "x" }));
    api.addNode(makeNode({ name: "y" }));
    await vi.waitFor(() => expect(nodeNames(informers)).toEqual(["x", "y"]));
    expect(lines.filter((l) => l.msg === "cluster event listener threw")).toHaveLength(2);
    // The throwing listener ran first, so the later one missed these; the informer itself carried on.
    expect(log.filter((l) => l.startsWith("node "))).toEqual([]);
    expect(informers.nodes.restarts).toBe(0);
  });

  it("stop() ends the watches and rejects whenSynced of a never-synced informer", async () => {
    api.faults.failNext({ method: "GET", pathPattern: /^\/api\/v1\/nodes$/, status: 403, count: 100 });
    const { informers } = await start();
    const synced = informers.whenSynced();
    await informers.stop();
    await expect(synced).rejects.toMatchObject({ code: "K3SF_ERR_KUBE_INFORMER" });
    await vi.waitFor(() => expect(api.openWatches()).toBe(0));
    const before = api.requests().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(api.requests().length).toBe(before); // no restarts after stop
  });
});

describe("superviseInformer backoff", () => {
  type Handler = (arg?: unknown) => void;

  function fakeInformer() {
    const handlers = new Map<string, Handler[]>();
    let listFn: (() => Promise<unknown>) | undefined;
    const state = { starts: 0, stops: 0, listOnStart: true };
    const informer = {
      on: (verb: string, cb: Handler) => handlers.set(verb, [...(handlers.get(verb) ?? []), cb]),
      off: () => {},
      start: async () => {
        state.starts++;
        if (state.listOnStart) await listFn?.();
      },
      stop: async () => {
        state.stops++;
      },
      list: () => [],
      get: () => undefined,
    };
    return {
      state,
      fail: (err: unknown) => {
        for (const cb of handlers.get("error") ?? []) cb(err);
      },
      create: (list: () => Promise<unknown>) => {
        listFn = list;
        return informer as unknown as CachedInformer<V1Node>;
      },
    };
  }

  const tick = () => new Promise((r) => setImmediate(r));

  it("restarts with capped exponential delays and resets after a stable period", async () => {
    const fake = fakeInformer();
    const clock = manualTimers();
    const supervised = superviseInformer<V1Node>({
      kind: "node",
      createInformer: fake.create,
      list: async () => ({ items: [], metadata: { resourceVersion: "1" } }),
      logger: silent,
      timers: clock.timers,
      backoff: createBackoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 }),
      stableAfterMs: 60_000,
    });
    await supervised.start();
    await tick();
    expect(supervised.synced).toBe(true);
    expect(clock.pending()).toEqual([60_000]); // the stable timer of the first start

    fake.state.listOnStart = false;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      fake.fail(new Error("terminated"));
      fake.fail(new Error("duplicate report of the same outage")); // coalesced: one restart pending
      expect(clock.pending()).toHaveLength(1);
      delays.push(clock.requested.at(-1) as number);
      // Fire the restart; its start() succeeds, but the next outage follows before the stable period ends.
      const restarted = clock.fireNext();
      expect(restarted).toBe(delays.at(-1));
      await tick();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(fake.state.starts).toBe(7);
    expect(supervised.restarts).toBe(6);

    // The last restart succeeded (no error followed): after the stable period the backoff starts over.
    expect(clock.pending()).toEqual([60_000]);
    clock.fireNext();
    fake.fail(new Error("terminated"));
    expect(clock.pending()).toEqual([100]);
  });

  it("ignores errors after stop and cancels a pending restart", async () => {
    const fake = fakeInformer();
    const clock = manualTimers();
    const supervised = superviseInformer<V1Node>({
      kind: "node",
      createInformer: fake.create,
      list: async () => ({ items: [], metadata: { resourceVersion: "1" } }),
      logger: silent,
      timers: clock.timers,
      backoff: createBackoff({ initialMs: 100, jitter: 0 }),
    });
    await supervised.start();
    fake.fail(new Error("terminated"));
    expect(clock.pending()).toContain(100);
    await supervised.stop();
    expect(clock.pending()).toEqual([]);
    fake.fail(new Error("AbortError from stop()"));
    expect(clock.pending()).toEqual([]);
    expect(fake.state).toMatchObject({ starts: 1, stops: 1 });
  });
});
