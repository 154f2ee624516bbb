import { describe, expect, it } from "vitest";
import { createMessage, encode } from "../../proto/index.ts";
import { salvageEnvelope } from "./envelope.ts";

const full = encode(
  "scheduleRequest",
  createMessage("scheduleRequest", {
    requestId: "req-1",
    replyTo: "k3s-fleet/v1/schedule/reply/cli",
    podName: "web",
    image: "nginx",
    labels: { app: "web" },
  }),
);

describe("salvageEnvelope", () => {
  it("reads request_id and reply_to from a whole request", () => {
    expect(salvageEnvelope(full)).toEqual({ requestId: "req-1", replyTo: "k3s-fleet/v1/schedule/reply/cli" });
  });

  it("reads them when only the tail is broken", () => {
    const broken = new Uint8Array([...full.subarray(0, 40), 0xff, 0xff, 0xff]);
    expect(salvageEnvelope(broken)).toEqual({
      requestId: "req-1",
      replyTo: "k3s-fleet/v1/schedule/reply/cli",
    });
  });

  it.each([
    ["empty", new Uint8Array()],
    ["JSON", new TextEncoder().encode('{"requestId":"x"}')],
    ["a truncated length", new Uint8Array([0x0a, 0x50, 0x41])],
    ["invalid UTF-8", new Uint8Array([0x0a, 0x02, 0xc3, 0x28])],
    ["field number 0", new Uint8Array([0x02, 0x01, 0x41])],
  ])("gives nothing for %s", (_what, bytes) => {
    expect(salvageEnvelope(bytes)).toEqual({ requestId: "", replyTo: "" });
  });
});
