// Anonymous (`npm start`) mode, issue 12: one local process could fill the node table so real nodes were
// refused. One client id may introduce at most broker.maxNewNodesPerClient (10) new node ids a minute;
// the rest of its node messages are refused (`new_node_rate`) and counted, and real nodes still get in.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { topicsFor } from "../../proto/index.ts";
import { type Cleanup, collect, mqttClient } from "../support/auth.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";
import { until } from "../support/until.ts";

const ROOT = "k3s-fleet/v1";
const topics = topicsFor(ROOT);
const cleanup: Cleanup = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

describe("new node ids per client", () => {
  it("one client filling the node table gets 10 new node ids a minute; a real node still gets in", async () => {
    const b = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1024 * 1024,
      topicRoot: ROOT,
      refusedPublish: "drop",
      localClients: [],
      logger: pino({ level: "silent" }),
    });
    cleanup.push(() => b.broker.close());
    const watcher = await mqttClient(b.broker.url, { clientId: "watcher" }, cleanup);
    const seen = collect(watcher);
    await watcher.subscribeAsync(`${ROOT}/node/+/birth`, { qos: 1 });
    const squatter = await mqttClient(b.broker.url, { clientId: "squatter" }, cleanup);
    for (let i = 0; i < 30; i++) await squatter.publishAsync(topics.birth(`fake-${i}`), "birth", { qos: 1 });
    // Messages for the node ids it did introduce still pass.
    await squatter.publishAsync(topics.birth("fake-0"), "again", { qos: 1 });
    const edge = await mqttClient(b.broker.url, { clientId: "k3s-fleet-agent-edge-01" }, cleanup);
    await edge.publishAsync(topics.birth("edge-01"), "real", { qos: 1 });
    await until(() => seen.some((m) => m.payload === "real"), 5000, "the real node's birth");
    await new Promise((r) => setTimeout(r, 100));
    const nodes = new Set(seen.map((m) => m.topic.split("/")[3]));
    expect(nodes.size).toBe(11);
    expect(seen.filter((m) => m.payload === "again")).toHaveLength(1);
    expect(b.limitRefusals()).toMatchObject({ new_node_rate: 20 });
  });
});
