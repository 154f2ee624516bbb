import { describe, expect, it } from "vitest";
import { createMessage, PeerState, timestamp } from "../../proto/index.ts";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { liveByNodeName } from "./live.ts";
import { applyBirth, applyStatus, applyTelemetry, createFleet, nodeFor } from "./state.ts";

const birth = (nodeId: string, k8sNodeName = "", session = 1n) =>
  createMessage("birth", { nodeId, k8sNodeName, session, intervalMs: 1000, time: timestamp(0) });
const sample = (seq: bigint, cpu: number, usedGiB: number, disks: number[]) =>
  createMessage("telemetry", {
    session: 1n,
    seq,
    time: timestamp(Number(seq) * 1000),
    cpu: { usagePercent: cpu, cores: 2 },
    memory: { totalBytes: 4n << 30n, usedBytes: BigInt(usedGiB) << 30n },
    filesystems: disks.map((p, i) => ({ mount: `/m${i}`, usePercent: p })),
  });

describe("liveByNodeName", () => {
  it("joins agents to Kubernetes nodes by k8s_node_name, else by node id, with their latest figures", () => {
    const fleet = createFleet({
      ...FLEET_DEFAULTS,
      defaultIntervalMs: 1000,
      staleAfterIntervals: 3,
      offlineAfterIntervals: 10,
    });
    const a = nodeFor(fleet, "agent-a", 0);
    applyBirth(a, birth("agent-a", "k3s-node-1"), 0);
    applyTelemetry(fleet, a, sample(1n, 25, 1, [40, 91.5]), 1000);
    const b = nodeFor(fleet, "edge-b", 0);
    applyBirth(b, birth("edge-b"), 0);
    applyTelemetry(fleet, b, sample(1n, 80, 3, []), 1000);

    const live = liveByNodeName(fleet, 1500);
    expect([...live.keys()].sort()).toEqual(["edge-b", "k3s-node-1"]);
    expect(live.get("k3s-node-1")).toEqual({
      agentId: "agent-a",
      online: true,
      ageMs: 500,
      intervalMs: 1000,
      cpuPercent: 25,
      memoryPercent: 25,
      diskMaxPercent: 91.5,
    });
    expect(live.get("edge-b")?.memoryPercent).toBe(75);
  });

  it("marks an agent offline after its Will, and one without samples as infinitely old", () => {
    const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: 1000 });
    const n = nodeFor(fleet, "n", 0);
    applyBirth(n, birth("n"), 0);
    expect(liveByNodeName(fleet, 10).get("n")).toMatchObject({
      online: true,
      ageMs: Number.POSITIVE_INFINITY,
    });
    applyStatus(n, createMessage("nodeStatus", { state: PeerState.OFFLINE, session: 1n }), 20);
    expect(liveByNodeName(fleet, 30).get("n")?.online).toBe(false);
  });
});
