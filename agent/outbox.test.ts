import { describe, expect, it } from "vitest";
import type { MessageOf } from "../proto/index.ts";
import { createPassThroughOutbox, type Sequence, type TelemetryLink } from "./outbox.ts";

function harness() {
  const sent: MessageOf<"telemetry">[] = [];
  let seq = 0n;
  const link: { ready: boolean } & TelemetryLink = {
    ready: false,
    publish: async (message) => void sent.push(message),
  };
  const sequence: Sequence = {
    session: 4n,
    next: () => {
      seq += 1n;
      return seq;
    },
  };
  return { sent, link, outbox: createPassThroughOutbox({ link, sequence }) };
}

describe("pass-through outbox", () => {
  it("stamps session and consecutive seqs on what it sends, and consumes no seq while down", async () => {
    const { sent, link, outbox } = harness();
    expect(outbox.offer({})).toBeUndefined();
    link.ready = true;
    outbox.offer({});
    outbox.offer({});
    link.ready = false;
    outbox.offer({});
    link.ready = true;
    outbox.offer({ uptimeSeconds: 5n });
    expect(sent.map((m) => [m.session, m.seq])).toEqual([
      [4n, 1n],
      [4n, 2n],
      [4n, 3n],
    ]);
    expect(sent[2]?.uptimeSeconds).toBe(5n);
    expect(outbox.dropped).toBe(2);
  });

  it("reports a publish that fails after hand-off, without throwing", async () => {
    const errors: unknown[] = [];
    const outbox = createPassThroughOutbox({
      link: { ready: true, publish: async () => Promise.reject(new Error("connection lost")) },
      sequence: { session: 1n, next: () => 1n },
      onPublishError: (error) => errors.push(error),
    });
    expect(outbox.offer({})?.seq).toBe(1n);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1);
  });
});
