import { describe, expect, it } from "vitest";
import { BROKER_DEFAULTS } from "../../../test/support/defaults.ts";
import {
  CHECK_GATE_BOUNDS,
  type CheckGateOptions,
  type CheckRequest,
  createCheckGate,
} from "./check-gate.ts";

function setup(options: Partial<CheckGateOptions> = {}) {
  let now = 0;
  const gate = createCheckGate({
    ...CHECK_GATE_BOUNDS,
    ...BROKER_DEFAULTS.checkGate,
    now: () => now,
    ...options,
  });
  const calls: string[] = [];
  const pending: Array<(ok: boolean) => void> = [];
  const request = (
    username: string,
    password: string,
    overrides: Partial<CheckRequest> & { result?: boolean | "deferred" } = {},
  ) =>
    gate.check({
      address: "10.0.0.1",
      username,
      known: true,
      password: Buffer.from(password),
      alive: () => true,
      verify: () => {
        calls.push(`${username}:${password}`);
        if (overrides.result === "deferred") return new Promise((resolve) => pending.push(resolve));
        return Promise.resolve(overrides.result ?? password === "right");
      },
      ...overrides,
    });
  return { gate, calls, pending, request, advance: (ms: number) => (now += ms) };
}

describe("createCheckGate", () => {
  it("runs at most `concurrency` checks, queues at most `maxQueued`, answers busy past that", async () => {
    const { gate, pending, request } = setup({ concurrency: 1, maxQueued: 2, maxPerAddress: 100 });
    const outcomes = [1, 2, 3].map((i) => request(`u${i}`, "right", { result: "deferred" }));
    expect(await request("u4", "right", { result: "deferred" })).toBe("busy");
    expect(gate.load()).toMatchObject({ running: 1, queued: 2 });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      pending.shift()?.(true);
    }
    expect(await Promise.all(outcomes)).toEqual(["ok", "ok", "ok"]);
    expect(gate.load()).toMatchObject({ running: 0, queued: 0 });
  });

  it("caps checks per address; another address still gets a place", async () => {
    const { request, pending } = setup({ maxPerAddress: 1 });
    const first = request("a", "right", { result: "deferred" });
    expect(await request("b", "right")).toBe("busy");
    expect(await request("c", "right", { address: "10.0.0.2" })).toBe("ok");
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(true);
    expect(await first).toBe("ok");
  });

  it("skips the check of a client that has gone", async () => {
    const { request, calls } = setup();
    expect(await request("a", "right", { alive: () => false })).toBe("gone");
    expect(calls).toEqual([]);
  });

  it("backs off an address for a username after freeFailures failures, doubling, and not other usernames", async () => {
    const { request, calls, advance } = setup({ freeFailures: 2, backoffInitialMs: 100, backoffMaxMs: 300 });
    expect(await request("a", "wrong")).toBe("bad");
    expect(await request("a", "wrong")).toBe("bad");
    expect(await request("a", "wrong")).toBe("bad"); // third failure: 100 ms
    expect(await request("a", "right")).toBe("backoff");
    expect(await request("b", "right")).toBe("ok");
    advance(100);
    expect(await request("a", "wrong")).toBe("bad"); // fourth: 200 ms
    advance(199);
    expect(await request("a", "right")).toBe("backoff");
    advance(1);
    expect(await request("a", "right")).toBe("ok");
    expect(await request("a", "wrong")).toBe("bad"); // the success reset the count: free again
    expect(await request("a", "wrong")).toBe("bad");
    expect(calls.filter((c) => c.startsWith("a:"))).toHaveLength(7);
  });

  it("remembers a good login for cacheTtlMs: no check for the same password, a check for another", async () => {
    const { gate, request, calls, advance } = setup({ cacheTtlMs: 1000 });
    expect(await request("a", "right")).toBe("ok");
    expect(await request("a", "right")).toBe("ok");
    expect(calls).toEqual(["a:right"]);
    expect(await request("a", "other")).toBe("bad");
    expect(calls).toEqual(["a:right", "a:other"]);
    advance(1000);
    expect(await request("a", "right")).toBe("ok");
    expect(calls).toHaveLength(3);
    gate.forget();
    expect(await request("a", "right")).toBe("ok");
    expect(calls).toHaveLength(4);
  });

  it("a remembered login is served even while its address is backed off and the queue is full", async () => {
    const { request, calls } = setup({ concurrency: 1, maxQueued: 0, freeFailures: 0 });
    expect(await request("a", "right")).toBe("ok");
    expect(await request("ghost", "x")).toBe("bad");
    const blocker = request("b", "right", { result: "deferred", address: "10.0.0.9" });
    expect(await request("c", "right")).toBe("busy");
    expect(await request("a", "right")).toBe("ok");
    expect(calls).toEqual(["a:right", "ghost:x", "b:right"]);
    void blocker;
  });
});

describe("createCheckGate turns", () => {
  it("waiting checks take turns by address: a late address is not served after a whole flood", async () => {
    const { request, pending, calls } = setup({ concurrency: 1, maxQueued: 100, maxPerAddress: 100 });
    const outcomes = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(request(`ghost-${i}`, "x", { result: "deferred", address: "10.6.6.6" }));
    outcomes.push(request("edge", "right", { result: "deferred", address: "10.0.0.2" }));
    for (let i = 0; i < 11; i++) {
      await new Promise((r) => setImmediate(r));
      pending.shift()?.(false);
    }
    await Promise.all(outcomes);
    // ghost-0 was running; of the waiting ones the other address came first.
    expect(calls.slice(0, 3)).toEqual(["ghost-0:x", "ghost-1:x", "edge:right"]);
  });
});

describe("createCheckGate wait bound", () => {
  it("does not queue a check whose expected wait is above maxWaitMs, from measured check times", async () => {
    const { gate, request, pending, advance } = setup({
      concurrency: 1,
      maxQueued: 100,
      maxPerAddress: 100,
      maxWaitMs: 1000,
    });
    // One check of 400 ms teaches the gate how long a check takes.
    const first = request("a", "right", { result: "deferred" });
    await new Promise((r) => setImmediate(r));
    advance(400);
    pending.shift()?.(true);
    expect(await first).toBe("ok");
    const running = request("b", "right", { result: "deferred" });
    const queued = [request("c", "right"), request("d", "right")]; // waits of 400 and 800 ms
    expect(await request("e", "right")).toBe("busy"); // would wait 1200 ms
    expect(gate.load()).toMatchObject({ running: 1, queued: 2, checkMs: 400 });
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(true);
    expect(await Promise.all([running, ...queued])).toEqual(["ok", "ok", "ok"]);
  });
});

describe("createCheckGate fairness when full", () => {
  it("a full queue makes room for a less busy address by pushing out the busiest address's newest check", async () => {
    const { request, pending, calls } = setup({ concurrency: 1, maxQueued: 2, maxPerAddress: 100 });
    const flood = [0, 1, 2].map((i) =>
      request(`ghost-${i}`, "x", { result: "deferred", address: "10.6.6.6" }),
    );
    expect(await request("ghost-3", "x", { address: "10.6.6.6" })).toBe("busy"); // same address: no room
    const node = request("edge", "right", { result: "deferred", address: "10.0.0.2" });
    expect(await flood[2]).toBe("busy"); // pushed out for the node (10.6.6.6 had 3 checks, the node 0)
    const other = request("other", "right", { address: "10.0.0.3" });
    expect(await flood[1]).toBe("busy"); // 10.6.6.6 still had 2
    expect(await request("late", "right", { address: "10.0.0.4" })).toBe("busy"); // one each now: no room
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(false); // ghost-0
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(true); // edge
    expect(await node).toBe("ok");
    expect(await other).toBe("ok");
    expect(calls).toEqual(["ghost-0:x", "edge:right", "other:right"]);
  });

  it("addresses with one check each do not push each other out", async () => {
    const { request, pending } = setup({ concurrency: 1, maxQueued: 2, maxPerAddress: 100 });
    const first = ["10.1.0.1", "10.1.0.2", "10.1.0.3"].map((address, i) =>
      request(`u${i}`, "right", { result: "deferred", address }),
    );
    expect(await request("u3", "right", { address: "10.1.0.4" })).toBe("busy");
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      pending.shift()?.(true);
    }
    expect(await Promise.all(first)).toEqual(["ok", "ok", "ok"]);
  });
});

describe("createCheckGate priority", () => {
  it("unknown usernames wait in their own bounded queue; a known user takes the free slot and goes first", async () => {
    const { gate, request, pending, calls } = setup({
      concurrency: 2,
      unknownConcurrency: 1,
      unknownMaxQueued: 2,
      maxPerAddress: 100,
    });
    const ghosts = [0, 1, 2].map((i) =>
      request(`ghost-${i}`, "x", { known: false, result: "deferred", address: `10.6.0.${i}` }),
    );
    // One running, two waiting: the low-priority queue is full, whatever the address.
    expect(await request("ghost-3", "x", { known: false, address: "10.6.0.3" })).toBe("busy");
    expect(gate.load()).toMatchObject({ running: 1, unknownRunning: 1, unknownQueued: 2 });
    // The second slot is for known users only.
    const node = request("edge", "right", { result: "deferred", address: "10.0.0.2" });
    const late = request("edge-2", "right", { result: "deferred", address: "10.0.0.3" });
    expect(gate.load()).toMatchObject({ running: 2, queued: 3 });
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(false); // ghost-0 ends: its slot goes to the waiting known user, not ghost-1
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["ghost-0:x", "edge:right", "edge-2:right"]);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setImmediate(r));
      pending.shift()?.(i < 2);
    }
    expect(await Promise.all([node, late])).toEqual(["ok", "ok"]);
    expect(await Promise.all(ghosts)).toEqual(["bad", "bad", "bad"]);
  });

  it("unknown usernames are checked at most unknownRatePerSecond a second after a burst", async () => {
    const { request, calls, advance } = setup({
      unknownRatePerSecond: 2,
      unknownBurst: 3,
      maxPerAddress: 100,
      freeFailures: 100,
    });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await request(`ghost-${i}`, "x", { known: false }));
    expect(outcomes).toEqual(["bad", "bad", "bad", "busy", "busy"]);
    expect(await request("edge", "right")).toBe("ok"); // known users do not spend the budget
    advance(500);
    expect(await request("ghost-5", "x", { known: false })).toBe("bad");
    expect(await request("ghost-6", "x", { known: false })).toBe("busy");
    expect(calls).toHaveLength(5);
  });

  it("a known user whose password failed is checked at low priority until it succeeds", async () => {
    const { gate, request, pending } = setup({
      concurrency: 2,
      unknownConcurrency: 1,
      unknownMaxQueued: 0,
      suspectMs: 1000,
      maxPerAddress: 100,
    });
    expect(await request("edge", "wrong")).toBe("bad");
    const ghost = request("ghost", "x", { known: false, result: "deferred", address: "10.6.6.6" });
    // The low-priority slot is taken and its queue holds nothing: the suspect user is answered busy...
    expect(await request("edge", "right", { address: "10.0.0.2" })).toBe("busy");
    // ...while another known user gets the free slot.
    expect(await request("edge-2", "right")).toBe("ok");
    expect(gate.load()).toMatchObject({ running: 1, unknownRunning: 1 });
    await new Promise((r) => setImmediate(r));
    pending.shift()?.(false);
    expect(await ghost).toBe("bad");
    expect(await request("edge", "right", { address: "10.0.0.2" })).toBe("ok");
  });
});
