// A flood of CONNECTs with wrong credentials (issue 12, High 2) against the embedded broker with a users
// file: password checks are bounded (the rest are answered CONNACK 3 at once), a flood for one username
// from one address is backed off, and a legitimate client from another address is served meanwhile.
// Persistent sessions for viewers (High 3) are refused here too, as they are decided at CONNECT.
import { mkdtempSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type SecuredBroker, startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { type Cleanup, connackCode, usersFile } from "../support/auth.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";
import { awaitConnack, connectPacket, openSocket } from "../support/raw-mqtt.ts";

const ROOT = "k3s-fleet/v1";
const silent = pino({ level: "silent" });
const cleanup: Cleanup = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function secured(
  options: Partial<Parameters<typeof startSecuredBroker>[0]> = {},
): Promise<SecuredBroker> {
  const file = join(mkdtempSync(join(tmpdir(), "k3sf-flood-")), "users.yaml");
  await usersFile(file, [
    { username: "edge-01", role: "node", password: "edge-secret" },
    { username: "watcher", role: "viewer", password: "viewer-secret" },
  ]);
  const b = await startSecuredBroker({
    ...BROKER_DEFAULTS,
    host: "127.0.0.1",
    port: 0,
    maxPacketBytes: 1024 * 1024,
    topicRoot: ROOT,
    usersFile: file,
    refusedPublish: "drop",
    localClients: [],
    logger: silent,
    ...options,
  });
  cleanup.push(() => b.broker.close());
  return b;
}

/** `count` CONNECTs sent at once, each on its own socket; resolves with their CONNACK codes. */
async function flood(port: number, count: number, username: (i: number) => string) {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = await openSocket(port);
    s.on("error", () => undefined);
    cleanup.push(async () => s.destroy());
    s.write(connectPacket({ clientId: `flood-${i}`, username: username(i), password: "nope" }));
    sockets.push(s);
  }
  return Promise.all(sockets.map((s) => awaitConnack(s, 20_000)));
}

function tally(codes: Array<number | string>) {
  const out: Record<string, number> = {};
  for (const c of codes) out[String(c)] = (out[String(c)] ?? 0) + 1;
  return out;
}

describe("password-check flood", () => {
  it("a flood for one unknown user from one address costs a few checks; the rest are backed off with CONNACK 3", async () => {
    const b = await secured({
      checkGate: { ...BROKER_DEFAULTS.checkGate, backoffInitialMs: 5000, backoffMaxMs: 5000 },
    });
    const codes = await flood(b.broker.port, 200, () => "ghost");
    const refusals = b.refusals();
    // freeFailures (3) plus what was already checking when they failed (maxPerAddress 8) at most.
    expect(refusals.unknown_user ?? 0).toBeLessThanOrEqual(11);
    expect((refusals.auth_backoff ?? 0) + (refusals.auth_busy ?? 0)).toBe(200 - (refusals.unknown_user ?? 0));
    expect(tally(codes)).toEqual({
      "3": 200 - (refusals.unknown_user ?? 0),
      "4": refusals.unknown_user ?? 0,
    });
  });

  it("a flood of ever-new usernames fills only the bounded queue; a real node from another address gets in", async () => {
    const b = await secured({
      checkGate: { ...BROKER_DEFAULTS.checkGate, concurrency: 1, maxQueued: 4, maxPerAddress: 1000 },
      connections: { ...BROKER_DEFAULTS.connections, maxPendingPerAddress: 1000 },
    });
    const flooding = flood(b.broker.port, 150, (i) => `ghost-${i}`);
    // From 127.0.0.2, while the flood's checks hold the queue.
    const node = await openSocket(b.broker.port, "127.0.0.1", "127.0.0.2");
    cleanup.push(async () => node.destroy());
    node.write(connectPacket({ clientId: "edge-01", username: "edge-01", password: "edge-secret" }));
    const codes = await flooding;
    const nodeCode = await awaitConnack(node, 20_000);
    const refusals = b.refusals();
    expect(refusals.auth_busy ?? 0).toBeGreaterThan(0);
    expect((refusals.unknown_user ?? 0) + (refusals.auth_busy ?? 0)).toBe(150);
    expect(tally(codes)["3"]).toBe(refusals.auth_busy);
    // The node is either checked (0) or told to come back (3), never left waiting behind 150 checks...
    expect([0, 3]).toContain(nodeCode);
    // ...and once the flood is answered it gets in at once.
    expect(
      await connackCode(
        b.broker.url,
        { clientId: "edge-01", username: "edge-01", password: "edge-secret" },
        cleanup,
      ),
    ).toBe(0);
  });

  it("does not check the password of a client that has already gone", async () => {
    const b = await secured({
      checkGate: { ...BROKER_DEFAULTS.checkGate, concurrency: 1, maxQueued: 100, maxPerAddress: 1000 },
    });
    const sockets: Socket[] = [];
    for (let i = 0; i < 30; i++) {
      const s = await openSocket(b.broker.port);
      s.on("error", () => undefined);
      sockets.push(s);
    }
    // All CONNECTs at once, then every socket closes: only the check already running may still be made.
    sockets.forEach((s, i) => {
      s.write(connectPacket({ clientId: `gone-${i}`, username: `ghost-${i}`, password: "nope" }));
    });
    await new Promise((r) => setImmediate(r));
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 1500));
    // Only what was already running (or got its turn before the close arrived) was checked.
    expect(b.refusals().unknown_user ?? 0).toBeLessThan(10);
  });
});

describe("persistent sessions by role", () => {
  it("a viewer may not keep a persistent session; with a clean session it connects", async () => {
    const b = await secured();
    const viewer = { clientId: "watcher-1", username: "watcher", password: "viewer-secret" };
    expect(await connackCode(b.broker.url, { ...viewer, clean: false }, cleanup)).toBe(5);
    expect(b.refusals()).toEqual({ persistent_session_denied: 1 });
    expect(await connackCode(b.broker.url, { ...viewer, clean: true }, cleanup)).toBe(0);
    expect(
      await connackCode(
        b.broker.url,
        { clientId: "edge-01", username: "edge-01", password: "edge-secret", clean: false },
        cleanup,
      ),
    ).toBe(0);
  });
});
