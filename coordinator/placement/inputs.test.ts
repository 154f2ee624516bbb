import { describe, expect, it } from "vitest";
import { FLEET_DEFAULTS } from "../../test/support/defaults.ts";
import { birth, telemetry } from "../../test/support/fleet-messages.ts";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { liveByNodeName } from "../fleet/live.ts";
import { applyBirth, applyTelemetry, createFleet, nodeFor } from "../fleet/state.ts";
import { buildSnapshot, type LiveTelemetry } from "../scheduler/index.ts";
import { agentNodeInputs, clusterNodeInputs } from "./inputs.ts";

const live: LiveTelemetry = {
  online: true,
  ageMs: 100,
  intervalMs: 5000,
  cpuPercent: 20,
  memoryPercent: 30,
  diskMaxPercent: 40,
};

describe("clusterNodeInputs", () => {
  it("puts each bound, unfinished pod on its node and joins live signals by node name", () => {
    const nodes = [makeNode("a", { allocatable: capacity("4", "8Gi") }), makeNode("b"), { metadata: {} }];
    const pods = [
      makePod("on-a", { nodeName: "a", requests: [{ cpu: "1" }] }),
      makePod("done-on-a", { nodeName: "a", phase: "Succeeded", requests: [{ cpu: "1" }] }),
      makePod("pending", { requests: [{ cpu: "1" }] }),
      makePod("on-gone-node", { nodeName: "z" }),
    ];
    const inputs = clusterNodeInputs(nodes, pods, new Map([["b", live]]));
    expect(inputs.map((i) => [i.node.metadata.name, i.pods?.map((p) => p.metadata?.name), i.live])).toEqual([
      ["a", ["on-a"], undefined],
      ["b", [], live],
    ]);
    expect(buildSnapshot(inputs).byName.get("a")?.reqCpu).toBe(1000);
  });
});

describe("agentNodeInputs", () => {
  it("makes one node per sized agent: cores → cpu, memory total → memory, birth labels, live signals", () => {
    const fleet = createFleet({ ...FLEET_DEFAULTS, defaultIntervalMs: 1000 });
    const now = 10_000;
    const one = nodeFor(fleet, "edge-1", 0);
    applyBirth(one, { ...birth({ session: 1, nodeId: "edge-1" }), k8sNodeName: "" }, 0);
    applyTelemetry(fleet, one, telemetry({ session: 1, seq: 1, cpu: 30, timeMs: now }), now);
    nodeFor(fleet, "unsized", 0); // no birth, no telemetry: cannot be sized
    const inputs = agentNodeInputs(fleet, liveByNodeName(fleet, now));
    expect(inputs).toHaveLength(1);
    const [input] = inputs;
    expect(input?.node).toEqual({
      metadata: { name: "edge-1", labels: { zone: "edge-1", "kubernetes.io/hostname": "edge-1" } },
      spec: { unschedulable: false, taints: [] },
      status: {
        allocatable: { cpu: "4", memory: String(8n * 1024n ** 3n), pods: "110" },
        capacity: { cpu: "4", memory: String(8n * 1024n ** 3n), pods: "110" },
        conditions: [{ type: "Ready", status: "True" }],
      },
    });
    expect(input?.live).toMatchObject({ agentId: "edge-1", online: true, cpuPercent: 30 });
    const snapshot = buildSnapshot(inputs);
    expect(snapshot.nodes[0]?.allocCpu).toBe(4000);
  });
});
