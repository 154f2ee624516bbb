// What the report's last decisions (SchedulingSummary.recent) add to the retained report, in bytes:
// `node bench/report-recent-size.ts`. Figures: bench/report-recent-results.md.
//
// 1. typical: ten decisions as a fleet makes them (pods "default/web-123", nodes "pi-0042", request ids as
//    UUIDs, kube-scheduler's messages, scores with fractions);
// 2. worst case: every string far over its bound (pod, request id, node, runner-up of 10,000 characters,
//    a message of 10,000 characters, ASCII and 4-byte UTF-8), so the bounds in recent.ts decide the size;
// 3. for scale, the whole report of 10,000 nodes as the coordinator builds it (NodeReport per node).
import { randomUUID } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { createAnalytics, type NewRecord } from "../coordinator/placement/analytics.ts";
import { MAX_RECENT } from "../coordinator/placement/recent.ts";
import { createMessage, encode, NodeHealth, SchedulingSummarySchema } from "../proto/index.ts";

const base: NewRecord = {
  at: Date.UTC(2026, 11, 7, 3, 4, 5),
  source: "mqtt",
  pod: "default/web",
  requestId: "",
  status: "scheduled",
  node: "pi-0001",
  score: 0,
  scores: [],
  reasons: [],
  latencyMs: 0,
  advisory: false,
  dryRun: false,
};

function recentBytes(records: NewRecord[]): number {
  const a = createAnalytics({ window: 1000 });
  for (const r of records) a.record(r);
  const s = a.summary();
  const withRecent = toBinary(SchedulingSummarySchema, s).length;
  s.recent = [];
  return withRecent - toBinary(SchedulingSummarySchema, s).length;
}

const typical: NewRecord[] = Array.from({ length: 100 }, (_, i) =>
  i % 5 === 4
    ? {
        ...base,
        status: "unschedulable",
        source: "pod",
        pod: `default/batch-${i}`,
        node: "",
        reasons: ["Insufficient memory", "node(s) had untolerated taint {dedicated: gpu}"],
        message:
          "0/50 nodes are available: 46 Insufficient memory, 4 node(s) had untolerated taint {dedicated: gpu}.",
        latencyMs: 3.4 + i / 10,
      }
    : {
        ...base,
        pod: `default/web-${i}`,
        requestId: randomUUID(),
        node: `pi-${String(i % 50).padStart(4, "0")}`,
        score: 80 + i / 7,
        runnerUp: { node: `pi-${String((i + 1) % 50).padStart(4, "0")}`, score: 70 + i / 9, scores: [] },
        message: `pi-${String(i % 50).padStart(4, "0")}: score ${(80 + i / 7).toFixed(2)}`,
        latencyMs: 1.2 + i / 10,
        dryRun: i % 2 === 0,
      },
);

const worst = (text: string): NewRecord[] =>
  Array.from({ length: 100 }, () => ({
    ...base,
    pod: text,
    requestId: text,
    node: text,
    message: text,
    score: 1.5,
    runnerUp: { node: text, score: 1.25, scores: [] },
    latencyMs: 1.5,
  }));

function reportOf(nodes: number): number {
  const report = createMessage("report", {
    coordinatorId: "k3s-fleet-coordinator",
    mode: "standalone",
    nodes: Array.from({ length: nodes }, (_, i) => ({
      nodeId: `pi-${String(i).padStart(5, "0")}`,
      hostname: `pi-${String(i).padStart(5, "0")}`,
      health: NodeHealth.ONLINE,
      session: 3n,
      lastSeenMs: 1200n,
      cpuPercent: 12.5 + (i % 80),
      cores: 4,
      load1m: 0.42,
      memoryTotalBytes: 4n << 30n,
      memoryUsedBytes: 1n << 30n,
      memoryPercent: 25.1,
      diskMaxUsePercent: 48.3,
      rxBytesPerSec: 12_345n,
      txBytesPerSec: 2_345n,
      online: true,
      uptimeSeconds: 86_400n,
      cpuTemperatureCelsius: 51.2,
      received: 1000n,
      agentVersion: "0.1.0",
      os: "Debian GNU/Linux 12",
    })),
  });
  return encode("report", report).length;
}

const rows = [
  ["typical (10 of 100 decisions, 1 in 5 unschedulable)", recentBytes(typical)],
  ["worst case, ASCII strings of 10,000 characters", recentBytes(worst("x".repeat(10_000)))],
  ["worst case, 4-byte UTF-8 strings of 10,000 characters", recentBytes(worst("😀".repeat(10_000)))],
] as const;
console.log(`recent decisions listed: ${MAX_RECENT}`);
for (const [what, bytes] of rows) console.log(`${what}: ${bytes} bytes`);
const full = reportOf(10_000);
console.log(`a FleetReport of 10,000 nodes (NodeReport fields only): ${full} bytes`);
console.log(
  `typical recent list / that report: ${((100 * (rows[0]?.[1] ?? 0)) / full).toFixed(3)} %, worst case ${((100 * (rows[2]?.[1] ?? 0)) / full).toFixed(3)} %`,
);
