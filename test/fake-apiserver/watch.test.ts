// Watch streams through client-node's Watch class: event types and order, replay from a resourceVersion,
// BOOKMARKs, timeoutSeconds, 410 Expired after compaction, selector transitions, and dropped streams.
import { CoreV1Api, type KubernetesObject, Watch } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeApiServer, makeNode, makePod, startFakeApiServer } from "./index.ts";
import { rawRequest } from "./raw-client.ts";

let api: FakeApiServer;

beforeAll(async () => {
  api = await startFakeApiServer({ bookmarkIntervalMs: 100 });
});
afterAll(() => api.close());

interface Seen {
  type: string;
  object: KubernetesObject & { code?: number; reason?: string; message?: string };
}

interface Collected {
  events: Seen[];
  /** Resolves with done()'s argument when the stream ends. */
  done: Promise<unknown>;
  stop(): void;
}

const open: Collected[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.stop();
});

async function collect(
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): Promise<Collected> {
  const events: Seen[] = [];
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = await new Watch(api.kubeConfig()).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (err) => finish(err),
  );
  const collected = { events, done, stop: () => controller.abort() };
  open.push(collected);
  return collected;
}

const summary = (events: Seen[]) => events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`.trim());

describe("watch", () => {
  it("streams ADDED, MODIFIED, DELETED after the list's resourceVersion, with per-object resourceVersions", async () => {
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: "default" });
    const watch = await collect("/api/v1/namespaces/default/pods", {
      resourceVersion: list.metadata?.resourceVersion,
    });
    api.addPod(makePod({ name: "w1" }));
    api.setPodPhase("default", "w1", "Running");
    api.deletePod("default", "w1");
    await vi.waitFor(() => expect(summary(watch.events)).toEqual(["ADDED w1", "MODIFIED w1", "DELETED w1"]));
    const rvs = watch.events.map((e) => Number(e.object.metadata?.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(watch.events[0]?.object).toMatchObject({ apiVersion: "v1", kind: "Pod" });
  });

  it("replays missed changes from an older resourceVersion", async () => {
    const from = api.resourceVersion;
    api.addNode(makeNode({ name: "r1" }));
    api.deleteNode("r1");
    const watch = await collect("/api/v1/nodes", { resourceVersion: from });
    await vi.waitFor(() => expect(summary(watch.events)).toEqual(["ADDED r1", "DELETED r1"]));
  });

  it("starts with synthetic ADDED events for current objects when no resourceVersion is given", async () => {
    api.addNode(makeNode({ name: "s1" }));
    const watch = await collect("/api/v1/nodes");
    await vi.waitFor(() => expect(summary(watch.events)).toEqual(["ADDED s1"]));
    api.deleteNode("s1");
  });

  it("sends BOOKMARKs only when allowWatchBookmarks is set", async () => {
    const plain = await collect("/api/v1/nodes", { resourceVersion: api.resourceVersion });
    const bookmarked = await collect("/api/v1/nodes", {
      resourceVersion: api.resourceVersion,
      allowWatchBookmarks: true,
    });
    await vi.waitFor(() => expect(bookmarked.events.length).toBeGreaterThanOrEqual(2));
    expect(bookmarked.events[0]).toEqual({
      type: "BOOKMARK",
      object: { kind: "Node", apiVersion: "v1", metadata: { resourceVersion: api.resourceVersion } },
    });
    expect(plain.events).toEqual([]);
  });

  it("accepts watch=1 and writes one JSON event per line", async () => {
    api.addNode(makeNode({ name: "raw" }));
    const res = await rawRequest(
      api,
      "GET",
      "/api/v1/nodes?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Draw",
    );
    expect(res.code).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const lines = res.text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([{ type: "ADDED", object: expect.objectContaining({ kind: "Node" }) }]);
    api.deleteNode("raw");
  });

  it("ends the stream cleanly at timeoutSeconds", async () => {
    const started = Date.now();
    const watch = await collect("/api/v1/nodes", { resourceVersion: api.resourceVersion, timeoutSeconds: 1 });
    expect(await watch.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("answers a compacted resourceVersion with an ERROR event carrying 410 Expired, over a 200 stream", async () => {
    const old = api.resourceVersion;
    api.addNode(makeNode({ name: "c1" }));
    api.compact();
    const watch = await collect("/api/v1/nodes", { resourceVersion: old });
    expect(await watch.done).toBeNull();
    expect(watch.events).toEqual([
      {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${old} (${api.resourceVersion})`,
          reason: "Expired",
          code: 410,
        },
      },
    ]);
    expect(api.requests().at(-1)).toMatchObject({ path: "/api/v1/nodes", watch: true, status: 200 });
    api.deleteNode("c1");
  });

  it("turns selector transitions into ADDED and DELETED", async () => {
    api.addNode(makeNode({ name: "t1" }));
    const watch = await collect("/api/v1/nodes", {
      resourceVersion: api.resourceVersion,
      labelSelector: "pool=gpu",
    });
    const label = (value: string | undefined) =>
      api.updateNode("t1", (n) => {
        const labels = { ...n.metadata.labels };
        if (value) labels.pool = value;
        else delete labels.pool;
        n.metadata.labels = labels;
      });
    label("gpu");
    label("gpu"); // still matching: MODIFIED
    label(undefined);
    await vi.waitFor(() => expect(summary(watch.events)).toEqual(["ADDED t1", "MODIFIED t1", "DELETED t1"]));
    expect(watch.events[2]?.object.metadata?.labels?.pool).toBe("gpu"); // last state the watcher matched
    api.deleteNode("t1");
  });

  it("answers a resourceVersion from the future with a 504 Timeout ERROR event", async () => {
    const watch = await collect("/api/v1/nodes", {
      resourceVersion: String(Number(api.resourceVersion) + 100),
    });
    await watch.done;
    expect(watch.events[0]?.object).toMatchObject({ code: 504, reason: "Timeout" });
  });

  it("reports an abruptly dropped stream to done() as an error, and a clean drop as null", async () => {
    const reset = await collect("/api/v1/nodes", { resourceVersion: api.resourceVersion });
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    expect(api.faults.dropWatches("reset")).toBe(1);
    const err = await reset.done;
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/terminated|socket|closed/i);

    const ended = await collect("/api/v1/nodes", { resourceVersion: api.resourceVersion });
    await vi.waitFor(() => expect(api.openWatches()).toBe(1));
    api.faults.dropWatches("end");
    expect(await ended.done).toBeNull();
  });

  it("reports an HTTP error answer to the watch request through done() with statusCode", async () => {
    api.faults.failNext({ pathPattern: "watch=true", status: 500 });
    const watch = await collect("/api/v1/nodes", { resourceVersion: api.resourceVersion });
    expect(await watch.done).toMatchObject({ statusCode: 500 });
  });
});
