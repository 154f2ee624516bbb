// Benchmark child for bench/hostile.bench.ts: the embedded broker as `k3s-fleet coordinator` starts it
// (startSecuredBroker with a users file, production scrypt cost), alone in its process so the parent's
// flood does not share its event loop. Prints {"port"} on stdout, then answers each stdin line with its
// figures: RSS, event-loop delay since the last line, refusal counts.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import pino from "pino";
import { startSecuredBroker } from "../../coordinator/broker/embedded.ts";
import { BROKER_DEFAULTS } from "../../test/support/defaults.ts";

const usersFile = process.argv[2];
if (!usersFile) throw new Error("usage: broker-child.ts USERS_FILE");
const secured = await startSecuredBroker({
  ...BROKER_DEFAULTS,
  host: "127.0.0.1",
  port: 0,
  maxPacketBytes: 16 * 1024 * 1024,
  topicRoot: "k3s-fleet/v1",
  usersFile,
  refusedPublish: "drop",
  localClients: [],
  // BENCH_CONNECT_RATE=20: the opt-in per-address accept rate (broker.maxConnectRatePerAddress).
  connections: {
    ...BROKER_DEFAULTS.connections,
    connectRatePerAddress: Number(process.env.BENCH_CONNECT_RATE ?? 0),
  },
  logger: pino({ level: "silent" }),
});
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
process.stdout.write(`${JSON.stringify({ port: secured.broker.port })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "quit") break;
  process.stdout.write(
    `${JSON.stringify({
      rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
      loopDelayMaxMs: Math.round(delay.max / 1e6),
      refusals: secured.refusals(),
      connectionRefusals: secured.broker.connectionRefusals(),
    })}\n`,
  );
  delay.reset();
}
await secured.broker.close();
process.exit(0);
