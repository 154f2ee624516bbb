import { describe, expect, it } from "vitest";
import { NodeHealth } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, status, telemetry } from "../../test/support/fleet-messages.ts";
import { SEQ_WINDOW } from "./seq.ts";
import {
  applyBirth,
  applyClaim,
  applyStatus,
  applyTelemetry,
  birthProblem,
  createFleet,
  expiredNodes,
  type FleetOptions,
  isForeignStatus,
  MAX_PAST_SESSIONS,
  memoryPercent,
  nodeFor,
  nodeHealth,
  statusProblem,
  telemetryProblem,
} from "./state.ts";

const { ONLINE, STALE, OFFLINE } = NodeHealth;

/** A fleet with one node "a" (interval 1 s unless given) and helpers that apply at an explicit time. */
function oneNode(options: Partial<FleetOptions> = {}) {
  const fleet = createFleet({
    ...FLEET_DEFAULTS,
    staleAfterIntervals: 3,
    offlineAfterIntervals: 6,
    ...options,
  });
  const node = nodeFor(fleet, "a", 0);
  return {
    fleet,
    node,
    birth: (session: number, at: number, intervalMs = 1000, timeMs = at) =>
      applyBirth(node, birth({ nodeId: "a", session, intervalMs, timeMs }), at),
    status: (state: "online" | "offline", session: number, at: number) =>
      applyStatus(node, status(state, session), at),
    sample: (
      session: number,
      seq: number,
      at: number,
      extra: { historical?: boolean; timeMs?: number } = {},
    ) => applyTelemetry(fleet, node, telemetry({ session, seq, timeMs: extra.timeMs ?? at, ...extra }), at),
    health: (at: number) => nodeHealth(fleet, node, at),
  };
}

describe("node health over time (interval 1 s, stale after 3, offline after 6)", () => {
  it.each([
    [0, ONLINE],
    [2999, ONLINE],
    [3000, ONLINE],
    [3001, STALE],
    [6000, STALE],
    [6001, OFFLINE],
  ])("last telemetry at 0, now %i → %s", (now, expected) => {
    const n = oneNode();
    n.birth(1, 0);
    n.sample(1, 1, 0);
    expect(n.health(now)).toBe(expected);
  });

  it("comes back ONLINE with the next sample after going STALE and OFFLINE by silence", () => {
    const n = oneNode();
    n.birth(1, 0);
    n.sample(1, 1, 0);
    expect(n.health(4000)).toBe(STALE);
    expect(n.health(7000)).toBe(OFFLINE);
    expect(n.sample(1, 2, 7000)).toBe("live");
    expect(n.health(7000)).toBe(ONLINE);
  });

  it("uses the birth's interval: 10 s interval is still ONLINE after 20 s", () => {
    const n = oneNode();
    n.birth(1, 0, 10_000);
    n.sample(1, 1, 0);
    expect(n.health(20_000)).toBe(ONLINE);
    expect(n.health(30_001)).toBe(STALE);
  });

  it("uses the default interval before a birth is seen", () => {
    const n = oneNode({ defaultIntervalMs: 2000 });
    n.sample(1, 1, 0);
    expect(n.health(6000)).toBe(ONLINE);
    expect(n.health(6001)).toBe(STALE);
  });

  it("counts silence from the birth when no telemetry came yet", () => {
    const n = oneNode();
    n.birth(1, 1000);
    expect(n.node.lastTelemetryAtMs).toBeUndefined();
    expect(n.health(4000)).toBe(ONLINE);
    expect(n.health(4001)).toBe(STALE);
  });

  it("a retained ONLINE status replayed later (coordinator reconnect) does not revive a silent node", () => {
    const n = oneNode();
    n.birth(1, 0);
    n.sample(1, 1, 0);
    applyStatus(n.node, status("online", 1, 0), 10_000); // stamped at 0 by the agent, received at 10 s
    expect(n.health(10_000)).toBe(OFFLINE);
    applyStatus(n.node, status("online", 1, 9_500), 10_000); // a fresh one does
    expect(n.health(10_000)).toBe(ONLINE);
  });

  it("takes the time of a birth from the agent, but never in the future", () => {
    const n = oneNode();
    n.birth(1, 10_000, 1000, 2_000); // a retained birth from 8 s before it was received
    expect(n.health(10_000)).toBe(OFFLINE);
    n.birth(2, 20_000, 1000, 99_000); // an agent clock ahead of ours
    expect(n.node.aliveAtMs).toBe(20_000);
    expect(n.health(20_000)).toBe(ONLINE);
  });

  it("never goes OFFLINE by silence when offlineAfterIntervals is 0", () => {
    const n = oneNode({ offlineAfterIntervals: 0 });
    n.sample(1, 1, 0);
    expect(n.health(1_000_000)).toBe(STALE);
  });
});

describe("silence past 1.5 × the keepalive the birth names (offline after 12 intervals)", () => {
  const withKeepalive = (intervalMs: number, keepaliveSeconds: number) => {
    const n = oneNode({ offlineAfterIntervals: 12 });
    applyBirth(n.node, birth({ nodeId: "a", session: 1, intervalMs, keepaliveSeconds }), 0);
    n.sample(1, 1, 0);
    return n;
  };

  it.each([
    [7500, STALE],
    [7501, OFFLINE],
  ])("interval 1 s, keepalive 5 s: silent until %i → %s, before 12 intervals", (now, expected) => {
    expect(withKeepalive(1000, 5).health(now)).toBe(expected);
  });

  it("comes back ONLINE with the next sample", () => {
    const n = withKeepalive(1000, 5);
    expect(n.health(8000)).toBe(OFFLINE);
    n.sample(1, 2, 8000);
    expect(n.health(8000)).toBe(ONLINE);
  });

  it("does not apply when the agent samples less often than it pings (interval 30 s, keepalive 10 s)", () => {
    const n = withKeepalive(30_000, 10);
    expect(n.health(89_999)).toBe(ONLINE);
    expect(n.health(90_001)).toBe(STALE);
    expect(n.health(360_000)).toBe(STALE);
    expect(n.health(360_001)).toBe(OFFLINE);
  });

  it("does not apply when the birth names no keepalive", () => {
    expect(withKeepalive(1000, 0).health(11_000)).toBe(STALE);
    expect(withKeepalive(1000, 0).health(12_001)).toBe(OFFLINE);
  });

  it("does not apply when offlineAfterIntervals is 0 (only the Will)", () => {
    const n = oneNode({ offlineAfterIntervals: 0 });
    applyBirth(n.node, birth({ nodeId: "a", session: 1, intervalMs: 1000, keepaliveSeconds: 2 }), 0);
    n.sample(1, 1, 0);
    expect(n.health(1_000_000)).toBe(STALE);
  });
});

describe("statuses and sessions", () => {
  it("status OFFLINE (the Will) makes the node OFFLINE at once; a new session's birth brings it back", () => {
    const n = oneNode();
    n.birth(1, 0);
    n.sample(1, 1, 0);
    expect(n.status("offline", 1, 500)).toBe("offline");
    expect(n.health(500)).toBe(OFFLINE);
    expect(n.birth(2, 900)).toBe("new_session");
    expect(n.health(900)).toBe(ONLINE);
  });

  it("ignores the Will of the previous connection arriving after the new birth", () => {
    const n = oneNode();
    n.birth(1, 0);
    n.birth(2, 100);
    expect(n.status("offline", 1, 200)).toBe("stale_session");
    expect(n.health(200)).toBe(ONLINE);
    expect(n.node.session).toBe(2n);
  });

  it("a status ONLINE of the current session clears OFFLINE; an older one does not", () => {
    const n = oneNode();
    n.birth(3, 0);
    n.status("offline", 3, 10);
    expect(n.status("online", 2, 20)).toBe("stale_session");
    expect(n.health(20)).toBe(OFFLINE);
    expect(n.status("online", 3, 30)).toBe("online");
    expect(n.health(30)).toBe(ONLINE);
  });

  it("a birth of the same session after its OFFLINE keeps it OFFLINE (retained messages in any order)", () => {
    const n = oneNode();
    n.status("offline", 4, 0);
    expect(n.birth(4, 0)).toBe("updated");
    expect(n.health(0)).toBe(OFFLINE);
  });

  it("ignores a birth of an older session", () => {
    const n = oneNode();
    n.birth(5, 0, 1000, 5000);
    expect(n.birth(4, 10, 2000, 4000)).toBe("stale_session");
    expect(n.node.birth?.intervalMs).toBe(1000);
  });

  it("accepts a lower session with a later birth time as an agent that lost its state", () => {
    const n = oneNode();
    n.birth(50, 0, 1000, 5000);
    expect(n.birth(1, 10, 1000, 9000)).toBe("new_session");
    expect(n.node.session).toBe(1n);
    expect(n.sample(1, 1, 20)).toBe("live");
    // The lost session's late Will must not take the reset agent down.
    expect(n.status("offline", 50, 30)).toBe("stale_session");
    expect(n.health(30)).toBe(ONLINE);
  });

  it("an OFFLINE status of a newer session (its birth not seen) opens that session as OFFLINE", () => {
    const n = oneNode();
    n.birth(1, 0);
    expect(n.status("offline", 2, 10)).toBe("offline");
    expect(n.node.session).toBe(2n);
    expect(n.health(10)).toBe(OFFLINE);
  });
});

describe("telemetry: duplicates, gaps, late fills, sessions", () => {
  type Step = [session: number, seq: number, expected: string, historical?: boolean];
  const cases: [
    name: string,
    steps: Step[],
    counters: { duplicates: number; gaps: number; historical: number },
  ][] = [
    [
      "in order",
      [
        [1, 1, "live"],
        [1, 2, "live"],
        [1, 3, "live"],
      ],
      { duplicates: 0, gaps: 0, historical: 0 },
    ],
    [
      "redelivered (QoS 1) and older seqs are duplicates",
      [
        [1, 1, "live"],
        [1, 2, "live"],
        [1, 2, "duplicate"],
        [1, 1, "duplicate"],
        [1, 3, "live"],
      ],
      { duplicates: 2, gaps: 0, historical: 0 },
    ],
    [
      "a jump counts the skipped seqs as gaps; a late arrival fills one, once",
      [
        [1, 1, "live"],
        [1, 2, "live"],
        [1, 5, "live"],
        [1, 3, "late"],
        [1, 3, "duplicate"],
        [1, 6, "live"],
      ],
      { duplicates: 1, gaps: 1, historical: 0 },
    ],
    [
      "a historical replay fills the gap it left",
      [
        [1, 1, "live"],
        [1, 10, "live"],
        [1, 4, "historical", true],
        [1, 5, "historical", true],
        [1, 5, "duplicate", true],
      ],
      { duplicates: 1, gaps: 6, historical: 2 },
    ],
    [
      "the first seq seen in a session opens no gap (coordinator started mid-session)",
      [
        [1, 1000, "live"],
        [1, 1001, "live"],
      ],
      { duplicates: 0, gaps: 0, historical: 0 },
    ],
    [
      "a new session resets the seqs",
      [
        [1, 1, "live"],
        [1, 2, "live"],
        [2, 1, "live"],
        [2, 2, "live"],
      ],
      { duplicates: 0, gaps: 0, historical: 0 },
    ],
    [
      "the previous session's buffered samples are accepted as historical, once",
      [
        [1, 1, "live"],
        [1, 2, "live"],
        [2, 1, "live"],
        [1, 3, "historical", true],
        [1, 4, "historical", true],
        [1, 4, "duplicate", true],
        [1, 2, "duplicate"],
      ],
      { duplicates: 2, gaps: 0, historical: 2 },
    ],
    [
      "samples buffered across several failed sessions are accepted, each once",
      [
        [1, 1, "live"],
        [2, 1, "live"],
        [3, 1, "live"],
        [1, 2, "historical", true],
        [1, 2, "duplicate", true],
        [2, 2, "historical", true],
      ],
      { duplicates: 1, gaps: 0, historical: 2 },
    ],
    [
      "a session whose connect never got through (seen only in replayed samples) is accepted, once",
      [
        [5, 1, "live"],
        [3, 1, "historical", true],
        [4, 1, "historical", true],
        [4, 2, "historical", true],
        [3, 1, "duplicate", true],
        [4, 2, "duplicate", true],
      ],
      { duplicates: 2, gaps: 0, historical: 3 },
    ],
  ];

  it.each(cases)("%s", (_name, steps, counters) => {
    const n = oneNode();
    steps.forEach(([session, seq, expected, historical], i) => {
      expect(n.sample(session, seq, 1000 + i, { historical }), `step ${i}: ${session}/${seq}`).toBe(expected);
    });
    expect({ duplicates: n.node.duplicates, gaps: n.node.gaps, historical: n.node.historical }).toEqual(
      counters,
    );
    expect(n.node.received).toBe(steps.length);
    expect(n.fleet.totals).toMatchObject(counters);
  });

  it("only a live sample becomes the latest one and moves last-seen", () => {
    const n = oneNode();
    n.sample(1, 5, 1000);
    n.sample(1, 3, 2000, { historical: true });
    n.sample(1, 5, 3000);
    expect(n.node.latest).toMatchObject({ session: 1n, seq: 5, timeMs: 1000 });
    expect(n.node.lastTelemetryAtMs).toBe(1000);
    n.sample(1, 6, 4000);
    expect(n.node.latest).toMatchObject({ session: 1n, seq: 6, timeMs: 4000 });
  });

  it("places replayed samples on the coordinator clock using the agent's clock offset", () => {
    const n = oneNode();
    // The agent's clock is 10 s behind the coordinator's.
    n.sample(1, 1, 50_000, { timeMs: 40_000 });
    n.sample(1, 10, 100_000, { timeMs: 90_000 });
    expect(n.node.sampleAtMs).toBe(100_000);
    expect(n.sample(1, 5, 100_500, { historical: true, timeMs: 85_000 })).toBe("historical");
    expect(n.node.sampleAtMs).toBe(95_000);
    // Never in the future, whatever the agent's clock says.
    expect(n.sample(1, 6, 100_600, { historical: true, timeMs: 99_000 })).toBe("historical");
    expect(n.node.sampleAtMs).toBe(100_600);
  });

  it("a jump larger than the window counts every skipped seq but remembers only the last window", () => {
    const n = oneNode();
    n.sample(1, 1, 0);
    n.sample(1, 2 + 2 * SEQ_WINDOW, 1);
    expect(n.node.gaps).toBe(2 * SEQ_WINDOW);
    expect(n.sample(1, 3 + SEQ_WINDOW, 2)).toBe("late");
    expect(n.sample(1, 2 + SEQ_WINDOW, 2)).toBe("duplicate");
    expect(n.sample(1, 2, 3)).toBe("duplicate");
    expect(n.node.gaps).toBe(2 * SEQ_WINDOW - 1);
    expect(n.node.current.missingCount).toBe(SEQ_WINDOW - 2);
  });
});

describe("many sessions", () => {
  it(`remembers ${MAX_PAST_SESSIONS} earlier sessions, forgetting the lowest first`, () => {
    const n = oneNode();
    for (let session = 1; session <= MAX_PAST_SESSIONS + 2; session++) n.sample(session, 1, session);
    expect(n.node.past.size).toBe(MAX_PAST_SESSIONS);
    expect(n.node.past.has(1n)).toBe(false);
    expect(n.node.past.has(3n)).toBe(true);
    expect(n.sample(3, 1, 100, { historical: true })).toBe("duplicate");
    expect(n.sample(3, 2, 100, { historical: true })).toBe("historical");
  });
});

describe("node identity: install ids", () => {
  /** Node "a" held by install "first", live at 1 s interval. */
  function held() {
    const n = oneNode();
    const claim = (installId: string, session: number, at: number) =>
      applyClaim(n.fleet, n.node, birth({ nodeId: "a", session, timeMs: at, installId }), at);
    expect(claim("first", 100, 0)).toBe("new_session");
    n.sample(100, 1, 500);
    return { ...n, claim };
  }

  it("refuses a second install while the holder is ONLINE, counting it and keeping the holder's birth", () => {
    const n = held();
    expect(n.claim("second", 200, 1000)).toBe("conflict");
    expect(n.node).toMatchObject({ installId: "first", idConflicts: 1, conflictingInstallId: "second" });
    expect(n.node.session).toBe(100n);
    expect(n.node.birth?.installId).toBe("first");
    expect(n.node.refusedSessions).toEqual([200n]);
    expect(n.health(1000)).toBe(ONLINE);
  });

  it("ignores the refused install's statuses (its ONLINE, its Will), not the holder's", () => {
    const n = held();
    n.claim("second", 200, 1000);
    expect(isForeignStatus(n.node, status("offline", 200, 1000, "second"))).toBe(true);
    expect(isForeignStatus(n.node, status("offline", 100, 1000, "first"))).toBe(false);
    expect(isForeignStatus(n.node, status("offline", 100, 1000, ""))).toBe(false);
  });

  it("a new install after the holder went OFFLINE starts a new epoch: any session number is accepted", () => {
    const n = held();
    n.status("offline", 100, 2000);
    // Re-flashed card on a Pi without RTC: a new install, a low session, a birth time in the past.
    expect(
      applyClaim(n.fleet, n.node, birth({ nodeId: "a", session: 1, timeMs: -5000, installId: "new" }), 3000),
    ).toBe("new_session");
    expect(n.node.installId).toBe("new");
    expect(n.sample(1, 1, 3100)).toBe("live");
    expect(n.health(3100)).toBe(ONLINE);
    // The old install's Will, late: foreign now.
    expect(isForeignStatus(n.node, status("offline", 100, 3200, "first"))).toBe(true);
  });

  it("a new install after the holder went STALE (no Will: power cut, then re-flashed) takes over", () => {
    const n = held();
    expect(n.health(5000)).toBe(STALE);
    expect(n.claim("new", 1, 5000)).toBe("new_session");
    expect(n.sample(1, 1, 5100)).toBe("live");
  });

  it("agents without an install id are never in conflict", () => {
    const n = held();
    expect(n.claim("", 300, 1000)).toBe("new_session");
    expect(n.node.idConflicts).toBe(0);
  });
});

describe("contract checks", () => {
  it.each([
    [telemetry({ session: 0, seq: 1 }), "telemetry without session"],
    [telemetry({ session: 1, seq: 0 }), "telemetry seq must start at 1"],
  ])("telemetryProblem → %s", (t, problem) => {
    expect(telemetryProblem(t)).toBe(problem);
  });

  it("flags births without session or for another node, and statuses without state", () => {
    expect(birthProblem("a", birth({ nodeId: "a", session: 1 }))).toBeUndefined();
    expect(birthProblem("a", birth({ nodeId: "a", session: 0 }))).toMatch(/session/);
    expect(birthProblem("a", birth({ nodeId: "b", session: 1 }))).toMatch(/another node/);
    expect(statusProblem(status("online", 1))).toBeUndefined();
    expect(statusProblem({ ...status("online", 1), state: 0 })).toMatch(/unspecified/);
  });

  it("memoryPercent is used / total", () => {
    expect(memoryPercent(telemetry({ session: 1, seq: 1, memory: 45.2 }))).toBeCloseTo(45.2, 2);
  });
});

describe("expiry of nodes gone for good", () => {
  it("lists nodes OFFLINE and silent for longer than the limit, never live or recently seen ones", () => {
    const fleet = createFleet({ ...FLEET_DEFAULTS, staleAfterIntervals: 3, offlineAfterIntervals: 6 });
    const at = (id: string) => nodeFor(fleet, id, 0);
    applyBirth(at("gone"), birth({ nodeId: "gone", session: 1, timeMs: 0 }), 0);
    applyStatus(at("gone"), status("offline", 1, 0), 0);
    applyBirth(at("silent"), birth({ nodeId: "silent", session: 1, timeMs: 0 }), 0); // OFFLINE by silence
    applyBirth(at("back"), birth({ nodeId: "back", session: 1, timeMs: 0 }), 0);
    applyTelemetry(fleet, at("back"), telemetry({ session: 1, seq: 1, timeMs: 9_500 }), 9_500);
    expect(expiredNodes(fleet, 5_000, 10_000)).toEqual([]);
    expect(expiredNodes(fleet, 10_001, 10_000).sort()).toEqual(["gone", "silent"]);
    expect(expiredNodes(fleet, 10_001, 0)).toEqual([]);
  });

  it("counts from when the coordinator heard the node, not from the time the agent stamped (no RTC: 1970)", () => {
    const fleet = createFleet({ ...FLEET_DEFAULTS, staleAfterIntervals: 3, offlineAfterIntervals: 6 });
    const now = 1_800_000_000_000;
    const pi = nodeFor(fleet, "pi", now);
    applyBirth(pi, birth({ nodeId: "pi", session: 1, timeMs: 0 }), now);
    expect(nodeHealth(fleet, pi, now + 1)).toBe(OFFLINE); // by silence since its 1970 birth
    expect(expiredNodes(fleet, now + 1, 24 * 3600_000)).toEqual([]);
    expect(expiredNodes(fleet, now + 24 * 3600_000 + 1, 24 * 3600_000)).toEqual(["pi"]);
  });
});
