// Fault injection seen through the real client: injected error codes with Status bodies, slow responses.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { failureOf } from "./client-status.ts";
import { type FakeApiServer, makeNode, startFakeApiServer } from "./index.ts";
import { rawRequest } from "./raw-client.ts";

let api: FakeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  api = await startFakeApiServer();
  core = api.kubeConfig().makeApiClient(CoreV1Api);
  api.addNode(makeNode({ name: "n1" }));
});
afterAll(() => api.close());
beforeEach(() => {
  api.faults.reset();
  api.clearRequests();
});

describe("failNext", () => {
  it("answers the next matching request with the status and a Status body, then recovers", async () => {
    api.faults.failNext({ pathPattern: "/api/v1/nodes", status: 500 });
    const failure = await failureOf(core.listNode());
    expect(failure).toEqual({
      code: 500,
      status: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Internal error occurred: injected fault (HTTP 500)",
        reason: "InternalError",
        code: 500,
      },
    });
    expect((await core.listNode()).items).toHaveLength(1);
    expect(api.requests().map((r) => r.status)).toEqual([500, 200]);
  });

  it("fails `count` times and only for the given method", async () => {
    api.faults.failNext({ method: "POST", status: 503, count: 2 });
    await core.listNode();
    const body = makeNode({ name: "n2" });
    expect((await failureOf(core.createNode({ body: body as never }))).code).toBe(503);
    expect((await failureOf(core.createNode({ body: body as never }))).code).toBe(503);
    await core.createNode({ body: body as never });
    api.deleteNode("n2");
  });

  it("sends Retry-After with 429", async () => {
    api.faults.failNext({ status: 429, retryAfterSeconds: 3 });
    const res = await rawRequest(api, "GET", "/api/v1/nodes");
    expect(res.code).toBe(429);
    expect(res.headers["retry-after"]).toBe("3");
    expect(res.json()).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
  });

  it("matches RegExp patterns against path and query", async () => {
    api.faults.failNext({ pathPattern: /labelSelector=/, status: 500 });
    await core.listNode();
    expect((await failureOf(core.listNode({ labelSelector: "a=b" }))).code).toBe(500);
  });
});

describe("delay", () => {
  it("holds matching responses for the given time", async () => {
    api.faults.delay({ pathPattern: "/api/v1/nodes/n1", ms: 300 });
    const started = performance.now();
    await core.readNode({ name: "n1" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const quick = performance.now();
    await core.listNode();
    expect(performance.now() - quick).toBeLessThan(250);
  });

  it("stops after `count` requests and is cleared by reset()", async () => {
    api.faults.delay({ ms: 300, count: 1 });
    await core.listNode();
    const started = performance.now();
    await core.listNode();
    expect(performance.now() - started).toBeLessThan(250);
  });
});
