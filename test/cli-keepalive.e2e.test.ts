// The CLI's own MQTT clients (here `report`) connect with the configured broker.keepalive, not a library
// default of their own (issue 16: mqtt/link.ts used 30 s where the schema says 10 s).
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedBroker, startEmbeddedBroker } from "../coordinator/broker/broker.ts";
import { runCliToEnd } from "./support/cli.ts";
import { EMBEDDED_BROKER_DEFAULTS } from "./support/defaults.ts";

let broker: EmbeddedBroker;
const keepalives: number[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    ...EMBEDDED_BROKER_DEFAULTS,
    port: 0,
    logger: pino({ level: "silent" }),
    preConnect: (_client, packet, done) => {
      keepalives.push(packet.keepalive ?? -1);
      done(null, true);
    },
  });
});
afterAll(() => broker?.close());

describe("CLI clients' keepalive", () => {
  it("report connects with broker.keepalive (7s here)", async () => {
    // No report is retained: the command waits its timeout and says so; the CONNECT is what is checked.
    await runCliToEnd(["report", "--broker", broker.url, "--timeout", "500ms"], {
      K3S_FLEET_BROKER_KEEPALIVE: "7s",
    });
    expect(keepalives).toEqual([7]);
  });
});
