import { performance } from "node:perf_hooks";
import { liveByNodeName } from "../coordinator/fleet/live.ts";
import { applyBirth, applyTelemetry, createFleet, nodeFor } from "../coordinator/fleet/state.ts";
import { agentNodeInputs } from "../coordinator/placement/inputs.ts";
import { createLiveReader } from "../coordinator/placement/live-reader.ts";
import { buildSnapshot, createScheduler, refreshLive } from "../coordinator/scheduler/index.ts";
import { FLEET_DEFAULTS } from "../test/support/defaults.ts";
import { birth, telemetry } from "../test/support/fleet-messages.ts";
import { makePod } from "../test/support/scheduler.ts";

// What keeping stale verdicts current costs (coordinator/scheduler/live-refresh.ts): before each decision
// on a reused snapshot, nodes whose sample looks more than an interval old are re-read from the fleet.
// Usage: node bench/live-refresh.bench.ts   (figures: bench/live-refresh-results.md)
// Fleet of n agents at 1 s interval, each reporting once a second (staggered); decisions every 2 ms for 5 s
// of fleet time on one snapshot: the cost of keeping stale verdicts current vs the decisions themselves.
for (const n of [1000, 5000, 10000]) {
  const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: 1000 });
  let now = 1_000_000;
  const seq = new Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    const id = `n${i}`;
    applyBirth(nodeFor(fleet, id, now), birth({ session: 1, nodeId: id, timeMs: now }), now);
    applyTelemetry(fleet, nodeFor(fleet, id, now), telemetry({ session: 1, seq: 1, timeMs: now }), now);
  }
  const t = telemetry({ session: 1, seq: 1, timeMs: now });
  const snap = buildSnapshot({ nodes: agentNodeInputs(fleet, liveByNodeName(fleet, now)), takenAt: now });
  const reader = createLiveReader(fleet);
  const scheduler = createScheduler();
  const pod = makePod("p", { requests: [{ cpu: "100m" }] });
  let refreshMs = 0;
  let decideMs = 0;
  let decisions = 0;
  let reread = 0;
  for (let step = 0; step < 2500; step++) {
    now += 2;
    // the agents whose turn it is report
    for (let i = ((step * 2 * n) / 1000) | 0; i < ((((step + 1) * 2 * n) / 1000) | 0); i++) {
      const k = i % n;
      seq[k]++;
      t.seq = BigInt(seq[k]);
      applyTelemetry(fleet, nodeFor(fleet, `n${k}`, now), t, now);
    }
    let a = performance.now();
    reread += refreshLive(snap, reader.at(now), now);
    refreshMs += performance.now() - a;
    a = performance.now();
    const d = scheduler.evaluate(snap, pod, now);
    decideMs += performance.now() - a;
    if (d.status !== "scheduled") throw new Error(d.message);
    decisions++;
  }
  console.log(
    `${n} nodes: ${decisions} decisions; live refresh ${(refreshMs / decisions).toFixed(3)} ms/decision (${(reread / decisions).toFixed(1)} nodes re-read), decision ${(decideMs / decisions).toFixed(3)} ms`,
  );
}
