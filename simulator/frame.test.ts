import { describe, expect, it } from "vitest";
import { packetSize } from "./frame.ts";

describe("packetSize", () => {
  it.each([
    { name: "PUBACK", bytes: [0x40, 0x02, 0x00, 0x01], expected: 4 },
    { name: "CONNACK", bytes: [0x20, 0x02, 0x00, 0x00], expected: 4 },
    { name: "PINGRESP", bytes: [0xd0, 0x00], expected: 2 },
    { name: "two-byte length (200)", bytes: [0x30, 0xc8, 0x01], expected: 203 },
    { name: "header only", bytes: [0x40], expected: 0 },
    { name: "length not finished", bytes: [0x30, 0xc8], expected: 0 },
    { name: "five length bytes", bytes: [0x30, 0xff, 0xff, 0xff, 0xff, 0x01], expected: -1 },
  ])("$name → $expected", ({ bytes, expected }) => {
    expect(packetSize(Uint8Array.from(bytes), 0)).toBe(expected);
  });

  it("reads the packet at an offset and stops at `end`", () => {
    const two = Uint8Array.from([0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02]);
    expect(packetSize(two, 4)).toBe(4);
    expect(packetSize(two, 4, 5)).toBe(0);
  });
});
