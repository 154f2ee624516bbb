import { describe, expect, it } from "vitest";
import { assertListenSafe, checkListenSafety, isLoopbackHost } from "./listen-safety.ts";

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.45.6.7", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LocalHost", true],
    ["0.0.0.0", false],
    ["::", false],
    ["", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["my-host.local", false],
    ["localhost.example.com", false],
  ])("%s: %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe("checkListenSafety", () => {
  it("allows loopback without auth, and anything with auth", () => {
    expect(checkListenSafety({ host: "127.0.0.1", authConfigured: false })).toBeUndefined();
    expect(checkListenSafety({ host: "::1", authConfigured: false })).toBeUndefined();
    expect(checkListenSafety({ host: "0.0.0.0", authConfigured: true })).toBeUndefined();
  });

  it("refuses any other address without auth, saying what to do", () => {
    const problem = checkListenSafety({ host: "0.0.0.0", authConfigured: false });
    expect(problem).toContain("refusing to start the embedded MQTT broker on 0.0.0.0 without authentication");
    expect(problem).toContain("broker.usersFile");
    expect(checkListenSafety({ host: "", authConfigured: false })).toContain("on all interfaces");
    expect(() => assertListenSafe({ host: "192.168.1.10", authConfigured: false })).toThrow(
      expect.objectContaining({ code: "K3SF_ERR_LISTEN_UNSAFE" }),
    );
  });
});
