import { beforeEach, describe, expect, it } from "vitest";
import { useFakeApiServer } from "../support/fake-api-server.ts";
import { failureOf } from "./client-status.ts";
import { makeNode } from "./index.ts";
import { rawRequest } from "./raw-client.ts";

const fake = useFakeApiServer((api) => api.addNode(makeNode({ name: "n1" })));
beforeEach(() => {
  fake.api.faults.reset();
  fake.api.clearRequests();
});

describe("failNext", () => {
  it("answers the next matching request with the status and a Status body, then recovers", async () => {
    fake.api.faults.failNext({ pathPattern: "/api/v1/nodes", status: 500 });
    const failure = await failureOf(fake.core.listNode());
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
    expect((await fake.core.listNode()).items).toHaveLength(1);
    expect(fake.api.requests().map((r) => r.status)).toEqual([500, 200]);
  });

  it("fails `count` times and only for the given method", async () => {
    fake.api.faults.failNext({ method: "POST", status: 503, count: 2 });
    await fake.core.listNode();
    const body = makeNode({ name: "n2" });
    expect((await failureOf(fake.core.createNode({ body: body as never }))).code).toBe(503);
    expect((await failureOf(fake.core.createNode({ body: body as never }))).code).toBe(503);
    await fake.core.createNode({ body: body as never });
    fake.api.deleteNode("n2");
  });

  it("sends Retry-After with 429", async () => {
    fake.api.faults.failNext({ status: 429, retryAfterSeconds: 3 });
    const res = await rawRequest(fake.api, "GET", "/api/v1/nodes");
    expect(res.code).toBe(429);
    expect(res.headers["retry-after"]).toBe("3");
    expect(res.json()).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
  });

  it("matches RegExp patterns against path and query", async () => {
    fake.api.faults.failNext({ pathPattern: /labelSelector=/, status: 500 });
    await fake.core.listNode();
    expect((await failureOf(fake.core.listNode({ labelSelector: "a=b" }))).code).toBe(500);
  });
});

describe("delay", () => {
  it("holds matching responses for the given time", async () => {
    fake.api.faults.delay({ pathPattern: "/api/v1/nodes/n1", ms: 300 });
    const started = performance.now();
    await fake.core.readNode({ name: "n1" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const quick = performance.now();
    await fake.core.listNode();
    expect(performance.now() - quick).toBeLessThan(250);
  });

  it("stops after `count` requests and is cleared by reset()", async () => {
    fake.api.faults.delay({ ms: 300, count: 1 });
    await fake.core.listNode();
    const started = performance.now();
    await fake.core.listNode();
    expect(performance.now() - started).toBeLessThan(250);
  });
});
