// The buffered outbox's memory tier (issue 14): with a healthy broker and coordinator nothing reaches the
// disk; what must outlive the moment still does (a late PUBACK, a dropped link, a coordinator gone).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type MessageOf, timestamp } from "../proto/index.ts";
import { type BufferStore, openBufferStore } from "./buffer-store.ts";
import type { TelemetryLink } from "./outbox.ts";
import { type BufferLimits, createBufferedOutbox } from "./outbox-buffered.ts";

const silent = pino({ level: "silent" });
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Counts the store's writing calls. */
function counting(store: BufferStore) {
  const writes = { append: 0, stamp: 0, acknowledge: 0, reopen: 0, enforce: 0, take: 0 };
  const count = <T>(name: keyof typeof writes, result: () => T): T => {
    writes[name] += 1;
    return result();
  };
  const wrapped: BufferStore = {
    path: store.path,
    get pending() {
      return store.pending;
    },
    append: (createdMs, body) => count("append", () => store.append(createdMs, body)),
    stamp: (id, session, seq) => count("stamp", () => store.stamp(id, session, seq)),
    take: (limit, skip) => count("take", () => store.take(limit, skip)),
    acknowledge: (id, atMs, keep) => count("acknowledge", () => store.acknowledge(id, atMs, keep)),
    reopen: (sinceMs) => count("reopen", () => store.reopen(sinceMs)),
    enforce: (bounds) => count("enforce", () => store.enforce(bounds)),
    close: () => store.close(),
  };
  return { store: wrapped, writes };
}

function rig(store: BufferStore, limits: Partial<BufferLimits> = {}, autoAck = true) {
  const clock = { wall: 1_000_000, mono: 0 };
  const sent: { message: MessageOf<"telemetry">; ack(): void; fail(): void }[] = [];
  const timers: (() => void)[] = [];
  const link: TelemetryLink & { ready: boolean } = {
    ready: true,
    publish: (message) =>
      new Promise<void>((resolve, reject) => {
        sent.push({ message, ack: resolve, fail: () => reject(new Error("connection lost")) });
        if (autoAck) resolve();
      }),
  };
  let session = 7n;
  let seq = 0n;
  const outbox = createBufferedOutbox({
    link,
    sequence: {
      get session() {
        return session;
      },
      next: () => ++seq,
    },
    store,
    limits: { maxSamples: 1000, maxAgeMs: 3_600_000, replayPerSecond: 5, redeliverMs: 20_000, ...limits },
    gate: { waitForCoordinator: false, settleMs: 0 },
    logger: silent,
    now: () => clock.wall,
    monotonic: () => clock.mono,
    schedule: (callback) => {
      timers.push(callback);
    },
  });
  outbox.connected();
  let n = 0;
  return {
    outbox,
    sent,
    link,
    /** Fires the spill timers due so far. */
    fireTimers: () => {
      for (const timer of timers.splice(0)) timer();
    },
    async tick() {
      n += 1;
      clock.wall += 1000;
      clock.mono += 1000;
      outbox.offer({ uptimeSeconds: BigInt(n), time: timestamp(clock.wall) });
      await settle();
    },
    reconnect() {
      session += 1n;
      seq = 0n;
      link.ready = true;
      outbox.connected();
    },
  };
}

describe("buffered outbox, memory tier", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("writes nothing to the buffer while the broker acknowledges every sample", async () => {
    const { store, writes } = counting(openBufferStore({ path: ":memory:" }));
    const r = rig(store);
    for (let i = 0; i < 100; i++) {
      await r.tick();
      r.fireTimers();
    }
    expect(r.sent).toHaveLength(100);
    expect(writes).toEqual({ append: 0, stamp: 0, acknowledge: 0, reopen: 0, enforce: 0, take: 0 });
    expect(r.outbox.stats()).toMatchObject({ offered: 100, live: 100, acknowledged: 100, pending: 0 });
  });

  it("a sample whose PUBACK is late is on disk with its identity: a killed process's successor sends it again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k3sf-outbox-memory-"));
    dirs.push(dir);
    const path = join(dir, "edge.buffer.db");
    const first = rig(openBufferStore({ path }), {}, false);
    await first.tick(); // 7/1, never acknowledged
    expect(first.outbox.stats().pending).toBe(1);
    first.fireTimers(); // spillAfterMs passed without a PUBACK
    // SIGKILL here: no close(), no goodbye. The file has the sample, stamped as sent.
    const reader = openBufferStore({ path });
    expect(reader.take(10)).toMatchObject([{ session: 7n, seq: 1n }]);
    reader.close();

    const second = rig(openBufferStore({ path }));
    second.reconnect(); // session 8
    await second.tick();
    expect(second.sent.map((s) => `${s.message.session}/${s.message.seq}/${s.message.historical}`)).toEqual([
      "7/1/true", // the original identity: a duplicate the coordinator drops if it had arrived
      "8/1/false",
    ]);
    await settle();
    expect(second.outbox.stats().pending).toBe(0);
    second.outbox.close();
  });

  it("a late PUBACK that does come after the spill clears the row", async () => {
    const r = rig(openBufferStore({ path: ":memory:" }), { redeliverMs: 0 }, false);
    await r.tick();
    r.fireTimers();
    expect(r.outbox.stats()).toMatchObject({ pending: 1, inflight: 1 });
    r.sent[0]?.ack();
    await settle();
    expect(r.outbox.stats()).toMatchObject({ pending: 0, inflight: 0, acknowledged: 1 });
    await r.tick(); // the next tick neither replays it nor writes the new sample
    expect(r.sent.map((s) => s.message.seq)).toEqual([1n, 2n]);
  });

  it("samples acknowledged within the redelivery window are sent again after the link drops", async () => {
    const { store, writes } = counting(openBufferStore({ path: ":memory:" }));
    const r = rig(store, { redeliverMs: 2_500 });
    for (let i = 0; i < 5; i++) await r.tick();
    expect(writes.append).toBe(0);
    r.link.ready = false;
    r.outbox.disconnected(); // samples 3, 4, 5 were acknowledged in the last 2.5 s
    expect(r.outbox.stats()).toMatchObject({ reopened: 3, pending: 3 });
    r.reconnect();
    await r.tick();
    expect(
      r.sent.slice(5).map((s) => `${s.message.uptimeSeconds}:${s.message.session}/${s.message.seq}`),
    ).toEqual(["3:7/3", "4:7/4", "5:7/5", "6:8/1"]);
  });
});
