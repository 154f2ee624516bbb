// A JSON log line names its module once. A child logger given `module` again wrote the key twice
// ("module":"broker","module":"limits"; "module":"simulator","module":"simulator"): JSON tools keep one of
// the two (jq the last), so a search for the broker's refusals by module found none of them.
import { Writable } from "node:stream";
import mqtt from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startSimulationFromConfig } from "../../cli/commands/simulate.ts";
import { loadConfig } from "../../cli/config/load.ts";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { topicsFor } from "../../proto/index.ts";
import { BROKER_DEFAULTS } from "../support/defaults.ts";
import { until } from "../support/until.ts";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

const moduleKeys = (line: string) => line.match(/"module":/g)?.length ?? 0;

describe("JSON log lines name their module once", () => {
  it("the embedded broker's limit refusals, and the simulator's lines", async () => {
    const { lines, logger } = capture();
    const secured = await startSecuredBroker({
      ...BROKER_DEFAULTS,
      host: "127.0.0.1",
      port: 0,
      maxPacketBytes: 1 << 20,
      topicRoot: topicsFor().root,
      refusedPublish: "drop",
      localClients: [],
      logger: logger.child({ module: "broker" }),
    });
    cleanup.push(() => secured.broker.close());
    const client = await mqtt.connectAsync(secured.broker.url, {
      clientId: "big-sender",
      reconnectPeriod: 0,
    });
    cleanup.push(() => client.endAsync());
    await client.publishAsync(topicsFor().telemetry("n1"), Buffer.alloc(5000), { qos: 1 });
    const refusal = await until(
      () => lines.find((l) => l.includes("payload_too_large")),
      5000,
      () => `a refusal in ${lines.join("\n")}`,
    );
    expect(moduleKeys(refusal)).toBe(1);
    expect(JSON.parse(refusal)).toMatchObject({ module: "broker", part: "limits" });

    const config = loadConfig({ env: {}, flags: { broker: { url: secured.broker.url } } });
    const sim = await startSimulationFromConfig(config, logger.child({ name: "simulate" }), { nodes: 1 });
    cleanup.push(() => sim.stop("test"));
    const started = await until(() => lines.find((l) => l.includes("simulation started")), 5000, "start");
    expect(moduleKeys(started)).toBe(1);
    expect(JSON.parse(started)).toMatchObject({ module: "simulator" });
  });
});
