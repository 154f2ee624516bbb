import pino from "pino";
import { describe, expect, it } from "vitest";
import { ELECTOR_TIMINGS } from "../../test/support/defaults.ts";
import { leaseStore } from "../../test/support/lease-store.ts";
import { virtualClock } from "../../test/support/virtual-clock.ts";
import { createElector, type Elector, validateTimings } from "./elector.ts";

const logger = pino({ level: "silent" });

/** Replicas competing for one Lease on one virtual clock, with a log of who led when. */
function rig(names: string[], timings = ELECTOR_TIMINGS) {
  const clock = virtualClock();
  const store = leaseStore();
  const leading = new Set<string>();
  /** Every moment two replicas acted as leader at once (must stay empty). */
  const overlaps: string[][] = [];
  const events: { at: number; who: string; what: "start" | "stop" }[] = [];
  const replicas = names.map((name) => {
    const client = store.client(name);
    const life = clock.killable();
    const elector: Elector = createElector({
      ...timings,
      client,
      identity: name,
      logger,
      timers: life.timers,
      now: clock.now,
      monotonic: clock.now,
      onStartedLeading() {
        leading.add(name);
        events.push({ at: clock.now(), who: name, what: "start" });
        if (leading.size > 1) overlaps.push([...leading]);
      },
      onStoppedLeading() {
        leading.delete(name);
        events.push({ at: clock.now(), who: name, what: "stop" });
      },
    });
    return { name, client, elector, kill: life.kill };
  });
  const leaders = () => replicas.filter((r) => r.elector.isLeader).map((r) => r.name);
  return { clock, store, replicas, leaders, overlaps, events, leading };
}

describe("leader election on a Lease", () => {
  it("rejects timings where the leader could still act after its Lease expired", () => {
    expect(validateTimings(ELECTOR_TIMINGS)).toEqual([]);
    expect(
      validateTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toEqual(["leaseDuration must be greater than renewDeadline"]);
    expect(() =>
      createElector({
        leaseDurationMs: 5_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 2_000,
      } as Parameters<typeof createElector>[0]),
    ).toThrow(/renewDeadline must be greater than 1.2 × retryPeriod/);
  });

  it("elects exactly one of three replicas, and the others see who leads", async () => {
    const r = rig(["a", "b", "c"]);
    for (const { elector } of r.replicas) void elector.start();
    await r.clock.advance(30_000);
    expect(r.leaders()).toHaveLength(1);
    const [leader] = r.leaders();
    expect(r.store.current()?.record.holderIdentity).toBe(leader);
    for (const { elector } of r.replicas) expect(elector.leader).toBe(leader);
    // Renewals keep the same holder; nobody else ever wrote the Lease.
    expect(new Set(r.store.writes.map((w) => w.by))).toEqual(new Set([leader]));
    expect(r.overlaps).toEqual([]);
  });

  it("fails over within lease duration + retry period when the leader dies (SIGKILL: no release)", async () => {
    const r = rig(["a", "b", "c"]);
    for (const { elector } of r.replicas) void elector.start();
    await r.clock.advance(10_000);
    const old = r.replicas.find((x) => x.elector.isLeader);
    if (!old) throw new Error("no leader");
    const lastRenew = r.store.current()?.record.renewTimeMs ?? 0;
    old.kill();
    r.leading.delete(old.name); // a dead process acts no more
    await r.clock.advance(40_000);
    const next = r.events.find((e) => e.what === "start" && e.who !== old.name);
    expect(next).toBeDefined();
    const failover = (next?.at ?? 0) - lastRenew;
    expect(failover).toBeGreaterThanOrEqual(ELECTOR_TIMINGS.leaseDurationMs);
    expect(failover).toBeLessThanOrEqual(ELECTOR_TIMINGS.leaseDurationMs + ELECTOR_TIMINGS.retryPeriodMs);
    expect(r.store.current()?.record.leaseTransitions).toBe(1);
    expect(r.overlaps).toEqual([]);
  });

  for (const fault of ["error", "hang"] as const) {
    it(`a leader cut off from the API server (${fault}) stops acting before anyone can take over, then rejoins as standby`, async () => {
      const r = rig(["a", "b"]);
      for (const { elector } of r.replicas) void elector.start();
      await r.clock.advance(6_000);
      const old = r.replicas.find((x) => x.elector.isLeader);
      const other = r.replicas.find((x) => !x.elector.isLeader);
      if (!old || !other) throw new Error("no leader");
      old.client.fault = fault;
      await r.clock.advance(30_000);
      const stopped = r.events.find((e) => e.who === old.name && e.what === "stop");
      const taken = r.events.find((e) => e.who === other.name && e.what === "start");
      expect(stopped).toBeDefined();
      expect(taken).toBeDefined();
      // The old leader gave up first, with time to spare: no moment with two leaders.
      expect(stopped?.at ?? Infinity).toBeLessThan(taken?.at ?? 0);
      expect(r.overlaps).toEqual([]);
      old.client.fault = "none";
      await r.clock.advance(20_000);
      expect(r.leaders()).toEqual([other.name]);
      expect(old.elector.leader).toBe(other.name);
    });
  }

  it("a leader that stops releases the Lease, so a standby takes over within one retry period", async () => {
    const r = rig(["a", "b"]);
    for (const { elector } of r.replicas) void elector.start();
    await r.clock.advance(5_000);
    const old = r.replicas.find((x) => x.elector.isLeader);
    if (!old) throw new Error("no leader");
    const stopAt = r.clock.now();
    await old.elector.stop();
    expect(r.store.current()?.record.holderIdentity).toBe("");
    await r.clock.advance(ELECTOR_TIMINGS.retryPeriodMs);
    expect(r.leaders()).toEqual(r.replicas.filter((x) => x !== old).map((x) => x.name));
    const taken = r.events.find((e) => e.what === "start" && e.who !== old.name);
    expect((taken?.at ?? Infinity) - stopAt).toBeLessThanOrEqual(ELECTOR_TIMINGS.retryPeriodMs);
  });

  it("never has two leaders under random faults and deaths (seeded, 200 steps)", async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
    const r = rig(["a", "b", "c"], timings);
    for (const { elector } of r.replicas) void elector.start();
    for (let step = 0; step < 200; step++) {
      const replica = r.replicas[Math.floor(random() * r.replicas.length)];
      if (!replica) continue;
      const roll = random();
      replica.client.fault = roll < 0.15 ? "error" : roll < 0.25 ? "hang" : "none";
      await r.clock.advance(Math.floor(random() * 1_500));
    }
    for (const { client } of r.replicas) client.fault = "none";
    await r.clock.advance(10_000);
    expect(r.overlaps).toEqual([]);
    expect(r.leaders()).toHaveLength(1);
    expect(r.events.filter((e) => e.what === "start").length).toBeGreaterThan(1);
  });
});

describe("role switch", () => {
  it("applies the latest role, one change at a time, and retries a change that failed", async () => {
    const { createRoleSwitch } = await import("./leadership.ts");
    const calls: string[] = [];
    let failPromote = 1;
    const roles = createRoleSwitch(
      {
        async promote() {
          calls.push("promote");
          if (failPromote-- > 0) throw new Error("broker away");
        },
        async demote() {
          calls.push("demote");
        },
      },
      logger,
    );
    await roles.set(true);
    expect(calls).toEqual(["promote", "promote"]);
    // Flapping while a change runs: only what is wanted at the end is applied.
    void roles.set(false);
    void roles.set(true);
    await roles.set(false);
    expect(calls).toEqual(["promote", "promote", "demote"]);
  });

  it("gives up on a change that hangs and tries it again", async () => {
    const { createRoleSwitch } = await import("./leadership.ts");
    let hang = true;
    let promoted = 0;
    const roles = createRoleSwitch(
      {
        promote: () => {
          if (hang) {
            hang = false;
            return new Promise<void>(() => {});
          }
          promoted++;
          return Promise.resolve();
        },
        demote: async () => {},
      },
      logger,
      50,
    );
    await roles.set(true);
    expect(promoted).toBe(1);
  });
});

describe("leadership gate", () => {
  it("passes every Kubernetes action through while acting, and refuses writes once leadership is lost", async () => {
    const { gateKubeActions } = await import("./gate.ts");
    const calls: string[] = [];
    const kube = {
      createPod: async () => {
        calls.push("create");
        return {};
      },
      readPod: async () => {
        calls.push("read");
        return undefined;
      },
      bind: async () => void calls.push("bind"),
      recordEvent: async () => void calls.push("event"),
      markUnschedulable: async () => void calls.push("unschedulable"),
    };
    let acting = true;
    const gated = gateKubeActions(kube, () => acting);
    // Every method of the real actions is there: a new one must not be dropped by the gate.
    expect(Object.keys(gated).sort()).toEqual(Object.keys(kube).sort());
    const ref = { namespace: "default", name: "p", uid: "u" };
    await gated.createPod({} as never);
    await gated.bind(ref, "n");
    await gated.markUnschedulable?.(ref, "no", 0, true);
    acting = false;
    await expect(gated.createPod({} as never)).rejects.toThrow(/no longer the leader/);
    await expect(gated.bind(ref, "n")).rejects.toThrow(/no longer the leader/);
    await gated.markUnschedulable?.(ref, "no", 0, true);
    await gated.readPod("default", "p");
    expect(calls).toEqual(["create", "bind", "unschedulable", "read"]);
  });
});
