// A scheduler's schedule request must speak for the connection that sends it (issue 12, Low: reply topics
// not tied to the requesting client id): its client_id is the MQTT client id and its reply_to empty or that
// client's own reply topic. Otherwise the embedded broker refuses the publish (`request_identity`), so a
// scheduler cannot have decisions sent to another client, and the coordinator may take the request's
// client id as proof of its user (per-user quotas: SecuredBroker.userOf).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { createMessage, encode, topicsFor } from "../../proto/index.ts";
import { type Cleanup, collect, mqttClient, usersFile } from "../support/auth.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";
import { until } from "../support/until.ts";

const ROOT = "k3s-fleet/v1";
const topics = topicsFor(ROOT);
const cleanup: Cleanup = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

const request = (requestId: string, clientId: string, replyTo = "") =>
  Buffer.from(
    encode(
      "scheduleRequest",
      createMessage("scheduleRequest", { requestId, clientId, replyTo, podName: "p" }),
    ),
  );

describe("schedule request identity (embedded broker)", () => {
  it("refuses requests naming another client id or reply topic; passes its own and names its user", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "k3sf-identity-")), "users.yaml");
    await usersFile(file, [
      { username: "ops", role: "scheduler", password: "ops-secret" },
      { username: "coord", role: "coordinator", password: "coord-secret" },
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
      logger: pino({ level: "silent" }),
    });
    cleanup.push(() => b.broker.close());
    const coordinator = await mqttClient(
      b.broker.url,
      { clientId: "k3s-fleet-coordinator", username: "coord", password: "coord-secret" },
      cleanup,
    );
    const seen = collect(coordinator);
    await coordinator.subscribeAsync(topics.scheduleRequest, { qos: 1 });
    const ops = await mqttClient(
      b.broker.url,
      { clientId: "ops-1", username: "ops", password: "ops-secret" },
      cleanup,
    );
    await ops.publishAsync(topics.scheduleRequest, request("spoofed-id", "victim-1"), { qos: 1 });
    await ops.publishAsync(
      topics.scheduleRequest,
      request("other-reply", "ops-1", topics.scheduleReply("victim-1")),
      { qos: 1 },
    );
    await ops.publishAsync(topics.scheduleRequest, request("own-default", "ops-1"), { qos: 1 });
    await ops.publishAsync(
      topics.scheduleRequest,
      request("own-explicit", "ops-1", topics.scheduleReply("ops-1")),
      { qos: 1 },
    );
    await until(() => seen.length >= 2, 5000, "the two requests that speak for their sender");
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((m) => m.payload.includes("own-"))).toEqual([true, true]);
    expect(b.refusals()).toMatchObject({ request_identity: 2 });
    expect(b.userOf("ops-1")).toBe("ops");
    expect(b.userOf("victim-1")).toBeUndefined();
  });
});
