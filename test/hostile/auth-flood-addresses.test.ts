// A password-check flood spread over 250 loopback source addresses with a new username each time (issue
// 12, CONNECT flood from many addresses): every per-address bound is defeated, so checks for usernames not
// in the users file get their own low-priority queue and rate budget (check-gate.ts). A node in the users
// file connecting while that queue is full is checked at once instead of being answered "busy".
import { mkdtempSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SCRYPT_COST } from "../../coordinator/broker/auth/password.ts";
import { addUser } from "../../coordinator/broker/auth/users.ts";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import type { Cleanup } from "../support/auth.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";
import { awaitConnack, connectPacket, openSocket } from "../support/raw-mqtt.ts";

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

const FLOOD = 250;

async function connack(port: number, localAddress: string, username: string, password: string) {
  const s = await openSocket(port, "127.0.0.1", localAddress);
  cleanup.push(async () => s.destroy());
  s.write(connectPacket({ clientId: username, username, password }));
  return awaitConnack(s, 20_000);
}

describe("password-check flood from many addresses", () => {
  it("250 addresses with made-up usernames fill only the low-priority queue; a known node is checked at once", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "k3sf-flood-addr-")), "users.yaml");
    // The production scrypt cost: checks take tens of ms, so the flood's queue is still full when the node
    // comes (the decoy hash for unknown users costs the same).
    for (const n of [1, 2])
      await addUser(file, `edge-0${n}`, "node", `secret-${n}`, { cost: DEFAULT_SCRYPT_COST });
    const b = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1024 * 1024,
      topicRoot: "k3s-fleet/v1",
      usersFile: file,
      refusedPublish: "drop",
      localClients: [],
      logger: pino({ level: "silent" }),
    });
    cleanup.push(() => b.broker.close());
    const port = b.broker.port;
    const sockets: Socket[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const s = await openSocket(port, "127.0.0.1", `127.0.1.${1 + i}`);
      s.on("error", () => undefined);
      cleanup.push(async () => s.destroy());
      sockets.push(s);
    }
    const answers = sockets.map((s) => awaitConnack(s, 30_000));
    const floodStarted = performance.now();
    sockets.forEach((s, i) => {
      s.write(connectPacket({ clientId: `flood-${i}`, username: `ghost-${i}`, password: "wrong" }));
    });
    // Until the flood fills every queue it may use: most CONNECTs have been answered busy at once.
    const started = performance.now();
    while ((b.refusals().auth_busy ?? 0) < FLOOD - 30 && performance.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 2));
    expect(b.refusals().auth_busy ?? 0).toBeGreaterThanOrEqual(FLOOD - 30);
    // The flood's checks still queue; a node from another address is not told to come back.
    expect(await connack(port, "127.0.0.2", "edge-01", "secret-1")).toBe(0);
    const codes = await Promise.all(answers);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const refusals = b.refusals();
    // Unknown usernames: a burst of 10 and 5 a second at most were checked; the rest answered busy (3).
    expect(refusals.unknown_user ?? 0).toBeLessThanOrEqual(10 + Math.ceil(5 * floodSeconds));
    expect(codes.filter((c) => c === 3)).toHaveLength(refusals.auth_busy ?? 0);
    expect((refusals.auth_busy ?? 0) + (refusals.unknown_user ?? 0)).toBe(FLOOD);
    // After the flood: another node that never connected before gets in.
    expect(await connack(port, "127.0.0.3", "edge-02", "secret-2")).toBe(0);
  }, 60_000);
});
