// Anonymous (`npm start`) mode, issue 12: any local process could take over the coordinator's client id (its
// session, its rate exemption). The in-process clients' ids are kept for them.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { type Cleanup, connackCode } from "../support/auth.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

describe("anonymous mode", () => {
  it("keeps the coordinator's and the local agent's client ids for this process's own clients", async () => {
    const b = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1024 * 1024,
      topicRoot: "k3s-fleet/v1",
      refusedPublish: "drop",
      localClients: [
        { name: "coordinator", role: "coordinator" },
        { name: "agent", role: "node", nodeId: "edge-local" },
      ],
      logger: pino({ level: "silent" }),
    });
    cleanup.push(() => b.broker.close());
    const url = b.broker.url;
    expect(await connackCode(url, { clientId: "k3s-fleet-coordinator" }, cleanup)).toBe(2);
    expect(await connackCode(url, { clientId: "k3s-fleet-agent-edge-local" }, cleanup)).toBe(2);
    const agent = b.credentials.get("agent");
    expect(await connackCode(url, { clientId: "k3s-fleet-coordinator", ...agent }, cleanup)).toBe(2);
    expect(
      await connackCode(
        url,
        { clientId: "k3s-fleet-coordinator", ...b.credentials.get("coordinator") },
        cleanup,
      ),
    ).toBe(0);
    expect(await connackCode(url, { clientId: "k3s-fleet-agent-edge-local", ...agent }, cleanup)).toBe(0);
    // Anyone else on loopback still connects anonymously.
    expect(await connackCode(url, { clientId: "some-tool" }, cleanup)).toBe(0);
  });
});
