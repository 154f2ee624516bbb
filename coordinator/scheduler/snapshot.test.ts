import { describe, expect, it } from "vitest";
import { capacity, makeNode, makePod } from "../../test/support/scheduler.ts";
import { buildSnapshot } from "./snapshot.ts";

describe("buildSnapshot (NodeInfo aggregation)", () => {
  it("sums requests, non-zero requests and pod counts once per node", () => {
    const s = buildSnapshot([
      {
        node: makeNode("n1", {
          allocatable: capacity("4", "8Gi", { "ephemeral-storage": "10Gi", "nvidia.com/gpu": "2" }),
        }),
        pods: [
          makePod("a", { requests: [{ cpu: "250m", memory: "64Mi", "nvidia.com/gpu": "1" }] }),
          makePod("b", { containers: [{ name: "no-requests" }] }),
          makePod("done", { requests: [{ cpu: "3" }], phase: "Succeeded" }),
        ],
      },
    ]);
    const n = s.nodes[0];
    expect(n?.pods.map((p) => p.key)).toEqual(["default/a", "default/b"]);
    expect(n?.reqCpu).toBe(250);
    expect(n?.reqMemory).toBe(64 * 1024 * 1024);
    expect(n?.nonZeroCpu).toBe(350);
    expect(n?.nonZeroMemory).toBe(264 * 1024 * 1024);
    expect(n?.allocCpu).toBe(4000);
    expect(n?.allocEphemeral).toBe(10 * 1024 ** 3);
    expect(n?.allowedPods).toBe(110);
    expect([...(n?.allocScalars ?? [])]).toEqual([["nvidia.com/gpu", 2n]]);
    expect([...(n?.reqScalars ?? [])]).toEqual([["nvidia.com/gpu", 1n]]);
  });

  it("falls back to capacity when allocatable is absent, and keeps capacity CPU for live load", () => {
    const s = buildSnapshot([
      { node: { metadata: { name: "n" }, status: { capacity: { cpu: "2", memory: "1Gi", pods: "10" } } } },
    ]);
    expect(s.nodes[0]?.allocCpu).toBe(2000);
    expect(s.nodes[0]?.capacityCpu).toBe(2000);
  });

  it("rejects duplicate nodes, nameless nodes and invalid quantities with coded errors", () => {
    expect(() => buildSnapshot([{ node: makeNode("x") }, { node: makeNode("x") }])).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_SNAPSHOT" }),
    );
    expect(() => buildSnapshot([{ node: { metadata: { name: "" } } }])).toThrow(/metadata.name/);
    expect(() => buildSnapshot([{ node: makeNode("x", { allocatable: { cpu: "lots" } }) }])).toThrow(
      expect.objectContaining({
        code: "K3SF_ERR_QUANTITY",
        message: expect.stringContaining("node x status.allocatable.cpu"),
      }),
    );
  });

  it("a rebuild reuses what it parsed from the same pod object, and parses a changed pod again", () => {
    const node = makeNode("n1");
    const pod = makePod("a", { uid: "u1", requests: [{ cpu: "250m" }] });
    const first = buildSnapshot([{ node, pods: [pod] }]);
    const again = buildSnapshot([{ node, pods: [pod] }]);
    expect(again.nodes[0]?.pods[0]).toBe(first.nodes[0]?.pods[0]);
    // An update is a new object (as the informer delivers it): its new requests count.
    const resized = makePod("a", { uid: "u1", requests: [{ cpu: "1" }] });
    expect(buildSnapshot([{ node, pods: [resized] }]).nodes[0]?.reqCpu).toBe(1000);
    expect(first.nodes[0]?.reqCpu).toBe(250);
  });
});
