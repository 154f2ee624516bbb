import { describe, expect, it } from "vitest";
import { createMessage, decode, encode, nodeIdProblem } from "../proto/index.ts";
import { birthInit, machineProfile, simNodeId } from "./machine.ts";

const GiB = 1024 ** 3;
const fleet = Array.from({ length: 2_000 }, (_, i) => machineProfile(11, i, "sim"));

describe("simNodeId", () => {
  it.each([
    { prefix: "sim", index: 0, id: "sim-00001" },
    { prefix: "edge", index: 41, id: "edge-00042" },
    { prefix: "sim", index: 123_456, id: "sim-123457" },
  ])("$prefix #$index → $id", ({ prefix, index, id }) => {
    expect(simNodeId(prefix, index)).toBe(id);
    expect(nodeIdProblem(id)).toBeUndefined();
  });
});

describe("machineProfile", () => {
  it("is a function of (seed, index)", () => {
    expect(machineProfile(11, 5, "sim")).toEqual(fleet[5]);
    expect(machineProfile(12, 5, "sim")).not.toEqual(fleet[5]);
  });

  it("draws machines an edge fleet has: 1–16 cores, 1–64 GiB, a root filesystem, a default interface", () => {
    for (const p of fleet) {
      expect(p.cores).toBeGreaterThanOrEqual(1);
      expect(p.cores).toBeLessThanOrEqual(16);
      expect(p.physicalCores).toBeLessThanOrEqual(p.cores);
      expect(p.memoryBytes).toBeGreaterThanOrEqual(1 * GiB);
      expect(p.memoryBytes).toBeLessThanOrEqual(64 * GiB);
      expect(p.filesystems[0]?.mount).toBe("/");
      for (const fs of p.filesystems) {
        expect(fs.initialUse).toBeGreaterThan(0);
        expect(fs.initialUse).toBeLessThan(0.95);
      }
      expect(p.interfaces.map((i) => i.name)).toContain(p.defaultInterface);
      expect(p.cpuBase + p.cpuAmplitude).toBeLessThanOrEqual(100);
      expect(p.phase).toBeGreaterThan(0);
      expect(p.phase).toBeLessThan(1);
    }
  });

  it("varies across the fleet: several hardware classes, core counts, memory sizes, some without sensors", () => {
    const hardware = new Set(fleet.map((p) => p.hardware));
    expect(hardware.size).toBeGreaterThanOrEqual(5);
    expect(new Set(fleet.map((p) => p.cores)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(fleet.map((p) => p.memoryBytes)).size).toBeGreaterThanOrEqual(6);
    const noSensor = fleet.filter((p) => p.idleCelsius === undefined).length;
    expect(noSensor).toBeGreaterThan(100);
    expect(noSensor).toBeLessThan(1_000);
    expect(fleet.some((p) => p.vpnInterface === "wg0")).toBe(true);
    expect(fleet.some((p) => p.filesystems.length > 1)).toBe(true);
  });
});

describe("birthInit", () => {
  it("encodes into a NodeBirth that decodes to the profile's facts", () => {
    const p = fleet[3] ?? machineProfile(11, 3, "sim");
    const bytes = encode(
      "birth",
      createMessage(
        "birth",
        birthInit(p, {
          session: 9n,
          nowMs: 1_700_000_000_000,
          intervalMs: 1000,
          keepaliveSeconds: 5,
          agentVersion: "0.1.0",
          labels: { x: "y" },
        }),
      ),
    );
    const decoded = decode("birth", bytes);
    if (!decoded.ok) throw new Error(decoded.detail);
    const b = decoded.message;
    expect(b).toMatchObject({ nodeId: "sim-00004", session: 9n, hostname: "sim-00004", intervalMs: 1000 });
    expect(b.keepaliveSeconds).toBe(5);
    expect(b.cpu?.cores).toBe(p.cores);
    expect(b.memoryTotalBytes).toBe(BigInt(p.memoryBytes));
    expect(b.filesystems.map((f) => f.mount)).toEqual(p.filesystems.map((f) => f.mount));
    expect(b.labels).toMatchObject({ "k3s-fleet.io/simulated": "true", x: "y" });
  });
});
