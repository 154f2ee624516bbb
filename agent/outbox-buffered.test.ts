import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createMessage, type MessageOf, PeerState, timestamp } from "../proto/index.ts";
import { type BufferStore, openBufferStore } from "./buffer-store.ts";
import type { Sequence, TelemetryLink } from "./outbox.ts";
import { type BufferLimits, createBufferedOutbox } from "./outbox-buffered.ts";
import type { GatePolicy } from "./outbox-gate.ts";

const silent = pino({ level: "silent" });

interface Sent {
  message: MessageOf<"telemetry">;
  ack(): void;
  fail(): void;
}

/** A link whose PUBACKs the test hands out, a session counter, a clock and an outbox over them. */
function harness(
  options: {
    store?: BufferStore;
    limits?: Partial<BufferLimits>;
    gate?: Partial<GatePolicy>;
    autoAck?: boolean;
    /** The session before the first `reconnect()` (a restarted process continues the count). */
    session?: bigint;
    /** Number of the first sample taken (a restarted process continues the count). */
    firstSample?: number;
  } = {},
) {
  const sent: Sent[] = [];
  const clock = { wall: 1_000_000, mono: 0 };
  let autoAck = options.autoAck ?? true;
  const link: TelemetryLink & { ready: boolean } = {
    ready: false,
    publish(message) {
      return new Promise<void>((resolve, reject) => {
        sent.push({ message, ack: resolve, fail: () => reject(new Error("connection lost")) });
        if (autoAck) resolve();
      });
    },
  };
  let session = options.session ?? 1n;
  let seq = 0n;
  const sequence: Sequence = {
    get session() {
      return session;
    },
    next: () => ++seq,
  };
  const store = options.store ?? openBufferStore({ path: ":memory:" });
  const outbox = createBufferedOutbox({
    link,
    sequence,
    store,
    limits: { maxSamples: 1000, maxAgeMs: 3_600_000, replayPerSecond: 3, redeliverMs: 0, ...options.limits },
    gate: { waitForCoordinator: false, settleMs: 10_000, ...options.gate },
    logger: silent,
    now: () => clock.wall,
    monotonic: () => clock.mono,
  });
  let n = (options.firstSample ?? 1) - 1;
  const h = {
    sent,
    link,
    store,
    outbox,
    clock,
    /** One sampling tick, 1 s on: `uptimeSeconds` numbers the samples 1, 2, 3 … in the order taken. */
    tick(): MessageOf<"telemetry"> | undefined {
      n += 1;
      clock.wall += 1000;
      clock.mono += 1000;
      return outbox.offer({ uptimeSeconds: BigInt(n), time: timestamp(clock.wall) });
    },
    ticks(count: number) {
      for (let i = 0; i < count; i++) h.tick();
    },
    /** Ticks with the PUBACKs of each one processed before the next (as on a real, idle link). */
    async run(count: number) {
      for (let i = 0; i < count; i++) {
        h.tick();
        await settle();
      }
    },
    /** The agent's reconnect: a new session, seq from 1, then `connected()`. */
    reconnect() {
      session += 1n;
      seq = 0n;
      link.ready = true;
      outbox.connected();
    },
    drop() {
      link.ready = false;
      outbox.disconnected();
    },
    setAutoAck(value: boolean) {
      autoAck = value;
    },
    wire: () =>
      sent.map((s) => ({
        n: Number(s.message.uptimeSeconds),
        id: `${s.message.session}/${s.message.seq}`,
        h: s.message.historical,
      })),
  };
  return h;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const coordinator = (state: PeerState, instanceId: string, atMs: number): MessageOf<"coordinatorStatus"> =>
  createMessage("coordinatorStatus", { state, instanceId, time: timestamp(atMs) });

/** Every sample 1..n arrived, and after dropping exact repeats no (session, seq) names two samples. */
function expectExactlyOnce(h: ReturnType<typeof harness>, n: number) {
  const byId = new Map<string, number>();
  for (const w of h.wire()) {
    const known = byId.get(w.id);
    if (known !== undefined) expect(known).toBe(w.n); // a repeat is the same sample
    byId.set(w.id, w.n);
  }
  expect([...new Set(byId.values())].sort((a, b) => a - b)).toEqual(
    Array.from({ length: n }, (_, i) => i + 1),
  );
  expect(byId.size).toBe(n);
}

describe("buffered outbox", () => {
  const cleanup: string[] = [];
  afterEach(async () => {
    for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("holds samples while the link is down, then replays them in order, historical, at a bounded rate beside live ones", async () => {
    const h = harness();
    h.ticks(7); // never connected yet: all buffered
    expect(h.sent).toEqual([]);
    expect(h.outbox.stats()).toMatchObject({ offered: 7, pending: 7 });
    h.reconnect(); // session 2
    h.tick(); // live 8 + 3 buffered
    await settle();
    expect(h.wire()).toEqual([
      { n: 8, id: "2/1", h: false },
      { n: 1, id: "2/2", h: true },
      { n: 2, id: "2/3", h: true },
      { n: 3, id: "2/4", h: true },
    ]);
    h.ticks(2);
    await settle();
    // Every tick carries its live sample; the backlog drains at 3 per second, oldest first.
    expect(h.wire().slice(4)).toEqual([
      { n: 9, id: "2/5", h: false },
      { n: 4, id: "2/6", h: true },
      { n: 5, id: "2/7", h: true },
      { n: 6, id: "2/8", h: true },
      { n: 10, id: "2/9", h: false },
      { n: 7, id: "2/10", h: true },
    ]);
    expect(h.outbox.stats()).toMatchObject({
      offered: 10,
      live: 3,
      replayed: 7,
      acknowledged: 10,
      pending: 0,
    });
    expectExactlyOnce(h, 10);
  });

  it("keeps a sample until its PUBACK: one in flight when the link drops goes again with the same session and seq", async () => {
    const h = harness({ autoAck: false });
    h.reconnect(); // session 2
    h.ticks(3);
    h.sent[0]?.ack();
    h.sent[1]?.ack();
    await settle();
    // Sample 3 (2/3) never got its PUBACK; the connection dies and the publish fails.
    h.drop();
    h.sent[2]?.fail();
    h.ticks(2); // 4 and 5 buffered
    h.setAutoAck(true);
    h.reconnect(); // session 3
    h.tick();
    await settle();
    expect(h.wire().slice(3)).toEqual([
      { n: 3, id: "2/3", h: true }, // its original identity: the coordinator drops it if it had arrived
      { n: 6, id: "3/1", h: false },
      { n: 4, id: "3/2", h: true },
      { n: 5, id: "3/3", h: true },
    ]);
    expect(h.outbox.stats()).toMatchObject({ failed: 1, pending: 0 });
    expectExactlyOnce(h, 6);
  });

  it("replays at most one second's worth per tick, however long the link was down", async () => {
    const h = harness({ limits: { replayPerSecond: 2.5 } });
    h.ticks(20);
    h.clock.mono += 3_600_000;
    h.reconnect();
    await h.run(3);
    // The hour offline accrued no more than one second's worth (2.5): 2 per tick, the rest carried.
    expect(
      h
        .wire()
        .map((w) => (w.h ? "h" : "L"))
        .join(""),
    ).toBe("LhhLhhLhh");
  });

  it("replays what was in flight on the old connection even when that publish never settles", async () => {
    const h = harness({ autoAck: false });
    h.reconnect();
    h.tick(); // 2/1, never acknowledged, never failed
    h.drop();
    h.setAutoAck(true);
    h.reconnect();
    h.tick();
    await settle();
    expect(h.wire().map((w) => w.id)).toEqual(["2/1", "2/1", "3/1"]);
    expectExactlyOnce(h, 2);
  });

  it("waits for the coordinator: holds while its status is unknown or OFFLINE, and lets a new instance settle", async () => {
    const h = harness({ gate: { waitForCoordinator: true } });
    h.reconnect();
    h.ticks(2);
    expect(h.sent).toEqual([]); // connected, but no coordinator status yet
    h.outbox.coordinatorStatus(coordinator(PeerState.ONLINE, "c1", h.clock.wall)); // just announced
    h.ticks(9); // 9 s of the 10 s settle time
    expect(h.sent).toEqual([]);
    h.tick();
    await settle();
    expect(h.wire().map((w) => w.n)).toEqual([12, 1, 2, 3]);
    h.outbox.coordinatorStatus(coordinator(PeerState.OFFLINE, "c1", h.clock.wall));
    h.ticks(3);
    expect(h.sent).toHaveLength(4);
    // The same instance back (its link reconnected): no settling, the backlog resumes.
    h.outbox.coordinatorStatus(coordinator(PeerState.ONLINE, "c1", h.clock.wall));
    await h.run(6);
    expect(h.outbox.stats().pending).toBe(0);
    expectExactlyOnce(h, 21);
  });

  it("sends again what was acknowledged shortly before the coordinator went away, with the same identity", async () => {
    const h = harness({ gate: { waitForCoordinator: true, settleMs: 0 }, limits: { redeliverMs: 2_500 } });
    h.reconnect();
    h.outbox.coordinatorStatus(coordinator(PeerState.ONLINE, "c1", 0));
    for (let i = 0; i < 5; i++) {
      h.tick(); // 2/1..2/5, each acknowledged by the broker within its 1 s tick
      await settle();
    }
    // The coordinator died (SIGKILL); its Will arrives a moment later: 2/3..2/5 may have gone nowhere.
    h.outbox.coordinatorStatus(coordinator(PeerState.OFFLINE, "c1", h.clock.wall));
    expect(h.outbox.stats()).toMatchObject({ reopened: 3, pending: 3 });
    h.outbox.coordinatorStatus(coordinator(PeerState.ONLINE, "c2", h.clock.wall));
    h.tick();
    await settle();
    expect(h.wire().slice(5)).toEqual([
      { n: 3, id: "2/3", h: true },
      { n: 4, id: "2/4", h: true },
      { n: 5, id: "2/5", h: true },
      { n: 6, id: "2/6", h: false }, // after the repeats, so a restarted coordinator opens no false gap
    ]);
    expectExactlyOnce(h, 6);
  });

  it("drops the oldest beyond the count bound and the too old, and counts them", () => {
    const h = harness({ limits: { maxSamples: 5, maxAgeMs: 20_000 } });
    h.ticks(8);
    expect(h.outbox.stats()).toMatchObject({ pending: 5, droppedByCount: 3, droppedByAge: 0 });
    h.clock.wall += 18_500; // the next tick is at 1_027_500: samples 4..7 are now older than 20 s, 8 is not
    h.tick();
    expect(h.outbox.stats()).toMatchObject({ pending: 2, droppedByAge: 4 });
    expect(h.outbox.dropped).toBe(7);
    h.reconnect();
    h.tick(); // a second later sample 8 is over the age bound too
    expect(h.wire().map((w) => w.n)).toEqual([10, 9]);
    expect(h.outbox.stats()).toMatchObject({ droppedByCount: 3, droppedByAge: 5 });
  });

  it("bounds what it has in flight: a slow broker slows the replay, never the live samples", async () => {
    const h = harness({ autoAck: false, limits: { replayPerSecond: 2 } });
    h.ticks(20);
    h.reconnect();
    h.ticks(4);
    // At most two seconds' worth (4) in flight: tick 1 replays 2, tick 2 one more, then only live samples.
    expect(h.wire().map((w) => w.n)).toEqual([21, 1, 2, 22, 3, 23, 24]);
    for (const s of h.sent) s.ack();
    await settle();
    h.tick();
    expect(
      h
        .wire()
        .slice(7)
        .map((w) => w.n),
    ).toEqual([25, 4, 5]);
  });

  it("keeps sampling through a failing buffer: sends unbuffered while it can, counts what it could not keep", async () => {
    const real = openBufferStore({ path: ":memory:" });
    let broken = false;
    const store: BufferStore = {
      path: real.path,
      get pending() {
        return real.pending;
      },
      append(createdMs, body) {
        if (broken) throw new Error("SQLITE_FULL: database or disk is full");
        return real.append(createdMs, body);
      },
      stamp: (id, session, seq) => real.stamp(id, session, seq),
      take: (limit, skip) => real.take(limit, skip),
      acknowledge: (id, atMs, keep) => real.acknowledge(id, atMs, keep),
      reopen: (sinceMs) => real.reopen(sinceMs),
      enforce: (bounds) => real.enforce(bounds),
      close: () => real.close(),
    };
    const h = harness({ store });
    h.reconnect();
    h.tick();
    broken = true;
    expect(h.tick()).toMatchObject({ seq: 2n, historical: false }); // still sent
    await settle(); // both acknowledged
    h.drop();
    expect(h.tick()).toBeUndefined(); // neither stored nor sent
    broken = false;
    h.reconnect();
    h.tick();
    await settle();
    expect(h.wire().map((w) => w.n)).toEqual([1, 2, 4]);
    expect(h.outbox.stats()).toMatchObject({
      storeErrors: 2,
      droppedOffline: 1,
      pending: 0,
      acknowledged: 3,
    });
    expect(h.outbox.dropped).toBe(1);
  });

  it("a restarted process replays what the killed one had buffered", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k3sf-outbox-"));
    cleanup.push(dir);
    const path = join(dir, "edge.buffer.db");
    const first = harness({ store: openBufferStore({ path }), autoAck: false });
    first.reconnect(); // session 2
    first.ticks(2); // 2/1 and 2/2 in flight, never acknowledged
    first.drop();
    first.ticks(3);
    first.store.close(); // the process dies here: no flush, no goodbye

    const second = harness({ store: openBufferStore({ path }), session: 4n, firstSample: 6 });
    second.reconnect(); // session 5
    second.ticks(2);
    await settle();
    expect(second.wire()).toEqual([
      { n: 1, id: "2/1", h: true }, // kept their identities: dropped as duplicates if they had arrived
      { n: 2, id: "2/2", h: true },
      { n: 6, id: "5/1", h: false },
      { n: 3, id: "5/2", h: true },
      { n: 7, id: "5/3", h: false },
      { n: 4, id: "5/4", h: true },
      { n: 5, id: "5/5", h: true },
    ]);
    expect(second.outbox.stats().pending).toBe(0);
    second.outbox.close();
  });
});
