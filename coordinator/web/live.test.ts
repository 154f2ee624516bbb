// The live hub with constructor-injected fakes for the response (its unsent-bytes count) and the rows.
import { describe, expect, it } from "vitest";
import { createLiveHub, type LiveSource, slim } from "./live.ts";
import type { FleetRow } from "./rows.ts";

function row(id: string, cpu: number): FleetRow {
  return {
    id,
    host: id,
    state: "online",
    since: 0,
    cpu,
    mem: 0,
    disk: 0,
    load: 0,
    temp: null,
    seen: 0,
    rx: 0,
    tx: 0,
    labels: {},
    k8s: id,
    pods: null,
  };
}

class FakeResponse {
  writableLength = 0;
  readonly written: string[] = [];
  ended = false;
  readonly #close: Array<() => void> = [];
  writeHead() {
    return this;
  }
  write(text: string) {
    this.written.push(text);
    return true;
  }
  on(event: string, fn: () => void) {
    if (event === "close") this.#close.push(fn);
    return this;
  }
  end() {
    this.ended = true;
  }
  close() {
    for (const fn of this.#close) fn();
  }
  events() {
    return this.written.map((w) => /event: (\w+)/.exec(w)?.[1] ?? "comment");
  }
}

function setup() {
  let rows = new Map([
    ["a", row("a", 1)],
    ["b", row("b", 2)],
  ]);
  const source: LiveSource = { rows: () => rows, decisions: () => [], summary: () => null };
  const intervals: unknown[] = [];
  const hub = createLiveHub({
    source,
    now: () => 0,
    maxBufferedBytes: 100,
    timers: { setInterval: () => intervals.push(1), clearInterval: () => intervals.pop() },
  });
  return { hub, intervals, set: (next: Map<string, FleetRow>) => (rows = next) };
}

describe("live hub", () => {
  it("sends a snapshot on attach, then only changed rows, and ticks only while pages are attached", async () => {
    const { hub, intervals, set } = setup();
    const res = new FakeResponse();
    hub.attach(res as never);
    expect(intervals).toHaveLength(1);
    expect(res.events()).toEqual(["snapshot"]);
    await hub.tick();
    expect(res.events()).toEqual(["snapshot"]); // nothing changed, no heartbeat due yet
    set(
      new Map([
        ["a", row("a", 1)],
        ["b", row("b", 50)],
      ]),
    );
    await hub.tick();
    const delta = JSON.parse(/data: (.*)/.exec(res.written[1] ?? "")?.[1] ?? "{}");
    expect(delta.upsert.map((r: FleetRow) => r.id)).toEqual(["b"]);
    res.close();
    expect(hub.clients()).toBe(0);
    expect(intervals).toHaveLength(0);
  });

  it("skips deltas to a page that cannot keep up and sends it a snapshot once it has drained", async () => {
    const { hub, set } = setup();
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    hub.attach(slow as never);
    hub.attach(fast as never);
    slow.writableLength = 1000;
    set(
      new Map([
        ["a", row("a", 9)],
        ["b", row("b", 2)],
      ]),
    );
    await hub.tick();
    set(
      new Map([
        ["a", row("a", 10)],
        ["b", row("b", 2)],
      ]),
    );
    await hub.tick();
    expect(fast.events()).toEqual(["snapshot", "delta", "delta"]);
    expect(slow.events()).toEqual(["snapshot"]);
    slow.writableLength = 0;
    set(
      new Map([
        ["a", row("a", 11)],
        ["b", row("b", 2)],
      ]),
    );
    await hub.tick();
    expect(slow.events()).toEqual(["snapshot", "snapshot"]);
    const snap = JSON.parse(/data: (.*)/.exec(slow.written[1] ?? "")?.[1] ?? "{}");
    expect(snap.rows.find((r: FleetRow) => r.id === "a").cpu).toBe(11);
    await hub.tick();
    set(
      new Map([
        ["a", row("a", 12)],
        ["b", row("b", 2)],
      ]),
    );
    await hub.tick();
    expect(slow.events()).toEqual(["snapshot", "snapshot", "delta"]);
  });

  it("gives a page that follows one node only that node's changes", async () => {
    const { hub, set } = setup();
    const res = new FakeResponse();
    hub.attach(res as never, { node: "b" });
    const snap = JSON.parse(/data: (.*)/.exec(res.written[0] ?? "")?.[1] ?? "{}");
    expect(snap.rows.map((r: FleetRow) => r.id)).toEqual(["b"]);
    set(
      new Map([
        ["a", row("a", 5)],
        ["b", row("b", 2)],
      ]),
    );
    await hub.tick();
    expect(res.events()).toEqual(["snapshot"]);
    set(
      new Map([
        ["a", row("a", 5)],
        ["b", row("b", 7)],
      ]),
    );
    await hub.tick();
    expect(res.events()).toEqual(["snapshot", "delta"]);
  });
});

describe("slim rows", () => {
  it("leave out labels, host and Kubernetes node when they did not change, and keep them when they did", async () => {
    const old = { ...row("a", 1), labels: { zone: "z1" } };
    const next = { ...row("a", 2), labels: { zone: "z1" } };
    expect(slim(next, old)).toEqual({ ...next, labels: undefined, host: undefined, k8s: undefined });
    expect(Object.keys(slim(next, old))).not.toContain("labels");
    const moved = { ...next, labels: { zone: "z2" }, host: "a2" };
    expect(slim(moved, old)).toMatchObject({ labels: { zone: "z2" }, host: "a2" });
    expect(slim(next, undefined)).toBe(next);
  });
});

describe("sliced ticks", () => {
  it("build rows and serialise a large delta a slice at a time, into one valid event", async () => {
    const many = (cpu: number) =>
      new Map(Array.from({ length: 1234 }, (_, i) => [`n${i}`, row(`n${i}`, cpu)] as const));
    let rows = many(1);
    let sliced = 0;
    const source: LiveSource = {
      rows: () => rows,
      *rowsInSlices() {
        sliced++;
        yield;
        return rows;
      },
      decisions: () => [],
      summary: () => null,
    };
    const hub = createLiveHub({
      source,
      now: () => 0,
      timers: { setInterval: () => 0, clearInterval: () => {} },
    });
    const res = new FakeResponse();
    hub.attach(res as never);
    rows = many(2);
    await hub.tick();
    expect(sliced).toBe(1);
    const delta = JSON.parse(/data: (.*)/.exec(String(res.written[1]))?.[1] ?? "{}");
    expect(delta.upsert).toHaveLength(1234);
    expect(new Set(delta.upsert.map((r: FleetRow) => r.id)).size).toBe(1234);
    expect(delta.upsert.every((r: FleetRow) => r.cpu === 2 && r.labels === undefined)).toBe(true);
    expect(delta.remove).toEqual([]);
  });
});
