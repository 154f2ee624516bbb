import { describe, expect, it } from "vitest";
import { createMessage, NodeHealth, timestamp } from "../../proto/index.ts";
import { age, formatUtc, renderReport } from "./render.ts";

const trend = (avg: number, max: number, samples = 10) => ({ min: 0, avg, max, samples });

const report = createMessage("report", {
  time: timestamp(Date.UTC(2024, 0, 15, 10, 30, 45)),
  coordinatorId: "coord-1",
  mode: "standalone",
  fleet: {
    totalNodes: 3,
    onlineNodes: 2,
    staleNodes: 0,
    offlineNodes: 1,
    healthPercent: (2 / 3) * 100,
    avgCpuPercent: 30,
    avgMemoryPercent: 40,
  },
  nodes: [
    {
      nodeId: "node-a",
      hostname: "my-machine",
      health: NodeHealth.ONLINE,
      lastSeenMs: 1200n,
      cpuPercent: 25.5,
      memoryPercent: 45.2,
      diskMaxUsePercent: 41.2,
      online: true,
      internet: true,
      cpu5m: trend(20.1, 40),
      memory5m: trend(44, 46),
    },
    {
      nodeId: "node-bbbb",
      health: NodeHealth.OFFLINE,
      lastSeenMs: 185_000n,
      cpuPercent: 3,
      memoryPercent: 10,
      diskMaxUsePercent: 80,
      gaps: 4n,
      duplicates: 2n,
      cpu5m: trend(0, 0, 0),
    },
    { nodeId: "node-c", health: NodeHealth.STALE },
  ],
  ingest: {
    received: 1234n,
    decoded: 1230n,
    duplicates: 2n,
    gaps: 4n,
    rejected: { oversized: 1n, decode_error: 4n },
  },
});
report.localSystem = report.nodes[0];

describe("renderReport", () => {
  it("prints the summary in the old tool's shape", () => {
    expect(renderReport(report).split("\n")).toEqual([
      "=== K3s Fleet Resource Summary ===",
      "Timestamp: 2024-01-15 10:30:45 UTC",
      "Coordinator: coord-1 (standalone)",
      "",
      "Local System:",
      "  Hostname: my-machine",
      "  CPU Usage: 25.50%",
      "  Memory Usage: 45.20%",
      "  Online: true",
      "  Internet: true",
      "  VPN: false",
      "",
      "Fleet Health:",
      "  Total Nodes: 3   Online: 2   Stale: 0   Offline: 1",
      "  Node Health: 66.67%",
      "  Average CPU: 30.00%   Average Memory: 40.00%",
      "",
      "Nodes:",
      "  node-a     ONLINE   cpu 25.5% (5m avg 20.1 max 40.0)  mem 45.2% (5m avg 44.0 max 46.0)  disk 41%  last seen 1.2s  seq gaps 0 dup 0",
      "  node-bbbb  OFFLINE  cpu 3.0% (5m no data)  mem 10.0% (5m no data)  disk 80%  last seen 3m05s  seq gaps 4 dup 2",
      "  node-c     STALE    no telemetry yet  seq gaps 0 dup 0",
      "",
      "Ingest: received 1234 decoded 1230 duplicates 2 gaps 4 rejected decode_error=4 oversized=1",
    ]);
  });

  it("says so when there is no local agent, no node and no rejection", () => {
    const empty = createMessage("report", {
      time: timestamp(0),
      fleet: { totalNodes: 0 },
      ingest: { received: 0n },
    });
    const text = renderReport(empty);
    expect(text).toContain("Local System: no agent on this machine");
    expect(text).toContain("Nodes: none yet");
    expect(text).toContain("rejected none");
    expect(text).toContain("Node Health: 0.00%");
  });

  it("never passes control characters from the bus to the terminal (a hostile install id, hostname, node id)", () => {
    const hostile = "\u001b]0;PWNED\u0007\u001b[2J\u009b";
    const text = renderReport(
      createMessage("report", {
        time: timestamp(0),
        coordinatorId: `c${hostile}`,
        mode: `m${hostile}`,
        localSystem: { nodeId: "local", hostname: `h${hostile}` },
        nodes: [
          {
            nodeId: `n\u0085${hostile.slice(-1)}`,
            health: NodeHealth.ONLINE,
            idConflicts: 1n,
            conflictingInstallId: hostile,
            lastSeenMs: 10n,
          },
        ],
        ingest: { received: 1n, rejected: { [`r${hostile}`]: 1n } },
      }),
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none get through
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain(
      "NODE ID CONFLICT: 1 birth(s) from another machine (install ?]0;PWNED??[2J?) refused",
    );
    expect(text).toContain("Hostname: h?]0;PWNED??[2J?");
  });
});

describe("formatting helpers", () => {
  it.each([
    [850, "850ms"],
    [1200, "1.2s"],
    [59_940, "59.9s"],
    [185_000, "3m05s"],
    [7_800_000, "2h10m"],
    [3 * 86_400_000 + 4 * 3_600_000, "3d4h"],
  ])("age(%i) = %s", (ms, text) => {
    expect(age(ms)).toBe(text);
  });

  it("formats timestamps in UTC", () => {
    expect(formatUtc(Date.UTC(2024, 0, 15, 10, 30, 45, 999))).toBe("2024-01-15 10:30:45 UTC");
  });
});
