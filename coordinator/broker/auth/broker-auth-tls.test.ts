// TLS client certificates name the user: the embedded broker's auth over a real TLS listener on loopback.
// startEmbeddedBroker speaks plain TCP only, so this builds the listener the way it would with TLS
// (tls.createServer + aedes.handle) from brokerTlsOptions.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { Aedes } from "aedes";
import type { IClientOptions } from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS } from "../../../cli/config/defaults.ts";
import { topicsFor } from "../../../proto/topics.ts";
import { type Cleanup, collect, connackCode, mqttClient, usersFile } from "../../../test/support/auth.ts";
import { certificateAuthority, type Pem, signedCertificate } from "../../../test/support/certs.ts";
import { BROKER_DEFAULTS } from "../../../test/support/defaults.ts";
import { until } from "../../../test/support/until.ts";
import { type BrokerAuth, createBrokerAuth } from "./broker-auth.ts";
import { brokerTlsOptions, brokerTlsProblem } from "./tls.ts";

const t = topicsFor("k3s-fleet/v1");
const cleanup: Cleanup = [];
let ca: Pem;
let certs: Record<"edge" | "sanOnly" | "coord" | "stranger" | "foreign", Pem>;
let dir: string;
let auth: BrokerAuth;
let url: string;
let aedes: Aedes;
let server: Server;

async function startTlsBroker(
  requireClientCert: boolean,
): Promise<{ url: string; aedes: Aedes; server: Server }> {
  const tlsOptions = await brokerTlsOptions({
    cert: join(dir, "server.crt"),
    key: join(dir, "server.key"),
    ca: join(dir, "ca.crt"),
    requireClientCert,
  });
  const broker = await Aedes.createBroker(auth.hooks);
  const listener = createServer(tlsOptions, (socket) => broker.handle(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = listener.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `mqtts://127.0.0.1:${port}`, aedes: broker, server: listener };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "k3sf-tls-"));
  ca = await certificateAuthority("k3s-fleet test CA");
  const serving = await signedCertificate(ca, {
    commonName: "k3s-fleet broker",
    usage: "server",
    ips: ["127.0.0.1"],
  });
  const client = (issuer: Pem, commonName: string) =>
    signedCertificate(issuer, { commonName, usage: "client" });
  certs = {
    edge: await client(ca, "edge-tls"),
    sanOnly: await signedCertificate(ca, { usage: "client", dns: ["edge-san"] }),
    coord: await client(ca, "coord"),
    stranger: await client(ca, "stranger"),
    foreign: await client(await certificateAuthority("someone else's CA"), "edge-tls"),
  };
  writeFileSync(join(dir, "ca.crt"), ca.cert);
  writeFileSync(join(dir, "server.crt"), serving.cert);
  writeFileSync(join(dir, "server.key"), serving.key);
  const users = await usersFile(join(dir, "users.yaml"), [
    { username: "edge-tls", role: "node", password: null },
    { username: "edge-san", role: "node", password: null },
    { username: "coord", role: "coordinator", password: "pw-c" },
  ]);
  auth = createBrokerAuth({
    checkGate: BROKER_DEFAULTS.checkGate,
    refusedPublish: "disconnect",
    topicRoot: CONFIG_DEFAULTS.topicRoot,
    users,
    logger: pino({ level: "silent" }),
  });
  ({ url, aedes, server } = await startTlsBroker(false));
});

afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const tls = (pem: Pem | undefined): IClientOptions => ({
  ca: ca.cert,
  rejectUnauthorized: true,
  ...(pem ? { cert: pem.cert, key: pem.key } : {}),
});

describe("TLS client certificates", () => {
  it("a verified certificate's CN is the user: a cert-only node connects without a password and publishes", async () => {
    const coordinator = await mqttClient(
      url,
      { ...tls(certs.coord), clientId: "c1", username: "coord", password: "pw-c" },
      cleanup,
    );
    await coordinator.subscribeAsync(t.filters.allNodes, { qos: 1 });
    const seen = collect(coordinator);
    const edge = await mqttClient(url, { ...tls(certs.edge), clientId: "k3s-fleet-agent-edge-tls" }, cleanup);
    await edge.publishAsync(t.telemetry("edge-tls"), "over tls", { qos: 1 });
    await until(() => seen.length === 1, 3000, "telemetry over TLS");
    expect(seen).toEqual([{ topic: t.telemetry("edge-tls"), payload: "over tls" }]);
  });

  it("without a CN, the first DNS subject alternative name is the user", async () => {
    expect(await connackCode(url, { ...tls(certs.sanOnly), clientId: "edge-san" }, cleanup)).toBe(0);
  });

  it("refuses a certificate naming an unknown user, and a username that is not the certificate's", async () => {
    const before = auth.refusals();
    expect(await connackCode(url, { ...tls(certs.stranger), clientId: "s" }, cleanup)).toBe(5);
    expect(
      await connackCode(
        url,
        { ...tls(certs.edge), clientId: "edge-tls", username: "coord", password: "pw-c" },
        cleanup,
      ),
    ).toBe(4);
    expect(auth.refusals().unknown_user).toBe((before.unknown_user ?? 0) + 1);
    expect(auth.refusals().cert_username_mismatch).toBe((before.cert_username_mismatch ?? 0) + 1);
  });

  it("a user with a password still gives it when it also presents a certificate", async () => {
    expect(await connackCode(url, { ...tls(certs.coord), clientId: "c2" }, cleanup)).toBe(4);
    expect(
      await connackCode(
        url,
        { ...tls(certs.coord), clientId: "c2", username: "coord", password: "pw-c" },
        cleanup,
      ),
    ).toBe(0);
  });

  it("a certificate the CA did not sign names nobody; a cert-only user cannot fall back to a password", async () => {
    expect(await connackCode(url, { ...tls(certs.foreign), clientId: "edge-tls" }, cleanup)).toBe(5);
    expect(
      await connackCode(
        url,
        { ...tls(undefined), clientId: "edge-tls", username: "edge-tls", password: "x" },
        cleanup,
      ),
    ).toBe(4);
  });

  it("requireClientCert: no verified certificate, no TLS session", async () => {
    const strict = await startTlsBroker(true);
    cleanup.push(
      () => new Promise<void>((resolve) => strict.aedes.close(() => resolve())),
      () => new Promise<void>((resolve) => strict.server.close(() => resolve())),
    );
    await expect(
      mqttClient(
        strict.url,
        { ...tls(undefined), clientId: "c3", username: "coord", password: "pw-c" },
        cleanup,
      ),
    ).rejects.toThrow();
    expect(await connackCode(strict.url, { ...tls(certs.edge), clientId: "edge-tls" }, cleanup)).toBe(0);
  });

  it("brokerTlsProblem: requiring client certificates needs a CA", () => {
    expect(brokerTlsProblem({ cert: "c", key: "k", requireClientCert: true })).toContain(
      "needs broker.tls.ca",
    );
    expect(brokerTlsProblem({ cert: "c", key: "k", ca: "a", requireClientCert: true })).toBeUndefined();
  });
});
