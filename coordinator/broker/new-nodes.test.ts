import { describe, expect, it } from "vitest";
import { createNewNodeGate } from "./new-nodes.ts";

describe("createNewNodeGate", () => {
  it("lets a client introduce perClientPerMinute new node ids, then one per 60/N s; known ids always pass", () => {
    const gate = createNewNodeGate({ perClientPerMinute: 3, perAddressPerMinute: 0 });
    const first = ["a", "b", "c", "d"].map((id) => gate.admit("squatter", "127.0.0.1", id, 0));
    expect(first).toEqual([true, true, true, false]);
    expect(gate.admit("squatter", "127.0.0.1", "a", 0)).toBe(true); // already known
    expect(gate.admit("edge-9", "127.0.0.1", "edge-9", 0)).toBe(true); // another client: its own bucket
    expect(gate.admit("edge-9", "127.0.0.1", "d", 0)).toBe(true); // and "d" is now known
    expect(gate.admit("squatter", "127.0.0.1", "e", 19_999)).toBe(false);
    expect(gate.admit("squatter", "127.0.0.1", "e", 20_000)).toBe(true);
  });

  it("bounds an address across client ids when perAddressPerMinute is set", () => {
    const gate = createNewNodeGate({ perClientPerMinute: 10, perAddressPerMinute: 2 });
    expect(gate.admit("c1", "10.0.0.1", "a", 0)).toBe(true);
    expect(gate.admit("c2", "10.0.0.1", "b", 0)).toBe(true);
    expect(gate.admit("c3", "10.0.0.1", "c", 0)).toBe(false);
    expect(gate.admit("c3", "10.0.0.2", "c", 0)).toBe(true);
  });

  it("0 turns both bounds off", () => {
    const gate = createNewNodeGate({ perClientPerMinute: 0, perAddressPerMinute: 0 });
    for (let i = 0; i < 1000; i++) expect(gate.admit("sim", "127.0.0.1", `n${i}`, 0)).toBe(true);
  });
});
