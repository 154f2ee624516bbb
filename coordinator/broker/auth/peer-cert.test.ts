import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { certUsername, verifiedPeerName } from "./peer-cert.ts";

describe("certUsername", () => {
  it.each([
    [{ subject: { CN: "edge-01" }, subjectaltname: "DNS:other" }, "edge-01"],
    [{ subject: {}, subjectaltname: "IP Address:10.0.0.1, DNS:edge-02, DNS:edge-03" }, "edge-02"],
    [{ subject: { CN: ["a", "b"] }, subjectaltname: "DNS:c" }, undefined],
    [{ subject: { CN: "" }, subjectaltname: "email:x@y" }, undefined],
    [{ subject: null }, undefined],
    [{}, undefined],
  ])("%o → %s", (cert, expected) => {
    expect(certUsername(cert)).toBe(expected);
  });

  it("a plain TCP socket has no certificate name", () => {
    expect(verifiedPeerName(new Socket())).toBeUndefined();
    expect(verifiedPeerName(undefined)).toBeUndefined();
  });
});
