// Reproduces the embedded broker's crash under a burst: N clients publish a retained status each, all in
// one go (as when a simulator, or a rack of agents behind one switch, drops at once), while one QoS 1
// subscriber on `{root}/node/#` is connected, as the coordinator is. With aedes' default `concurrency`
// (100) mqemitter queues the excess, and when a queued message has no subscriber (aedes' own
// `$SYS/.../new/clients` and `disconnect/clients`) fastparallel calls `released` synchronously, so draining
// the queue recurses once per message: "RangeError: Maximum call stack size exceeded" in mqemitter `_do`
// (upstream: mcollina/mqemitter pull request #204, open). Runs `startEmbeddedBroker` from coordinator/broker/broker.ts.
//   node bench/suite/aedes-burst.ts [--clients 3000] [--concurrency N]   (N is passed to Aedes.createBroker)
// Prints one JSON line: whether the process survived and how many messages the subscriber got.
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { Aedes, type AedesOptions } from "aedes";
import mqtt from "mqtt";
import pino from "pino";
import { startEmbeddedBroker } from "../../coordinator/broker/broker.ts";
import { EMBEDDED_BROKER_DEFAULTS } from "../../test/support/defaults.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "3000" },
    concurrency: { type: "string" },
    child: { type: "boolean", default: false },
  },
});
const clients = Number(values.clients);

if (!values.child) {
  // Run the burst in a child so a crash is an observation, not the end of this script.
  const args = [new URL(import.meta.url).pathname, "--child", "--clients", String(clients)];
  if (values.concurrency !== undefined) args.push("--concurrency", values.concurrency);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  const crash = /^(\w*Error: .*)$/m.exec(err)?.[1];
  process.stdout.write(
    `${JSON.stringify({ clients, concurrency: values.concurrency ?? "default (100)", exitCode: code, crash: crash ?? null, result: out.trim() || null })}\n`,
  );
  process.exit(0);
}

if (values.concurrency !== undefined) {
  const concurrency = Number(values.concurrency);
  const original = Aedes.createBroker.bind(Aedes);
  Aedes.createBroker = (options?: AedesOptions) => original({ ...options, concurrency });
}
const logger = pino({ level: "silent" });
const broker = await startEmbeddedBroker({ ...EMBEDDED_BROKER_DEFAULTS, host: "127.0.0.1", port: 0, logger });
let received = 0;
const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: "burst-sub" });
subscriber.on("message", () => received++);
await subscriber.subscribeAsync("burst/v1/node/#", { qos: 1 });

// Connect every client first (200 at a time).
const conns: mqtt.MqttClient[] = [];
for (let i = 0; i < clients; i += 200) {
  const batch = Array.from({ length: Math.min(200, clients - i) }, (_, j) =>
    mqtt.connectAsync(broker.url, {
      protocolVersion: 4,
      clientId: `burst-${i + j}`,
      reconnectPeriod: 0,
    }),
  );
  conns.push(...(await Promise.all(batch)));
}
// As the simulator's clean stop does: a retained OFFLINE status from every client, then every client's
// DISCONNECT right behind it, without waiting (each DISCONNECT makes aedes emit `$SYS/<id>/disconnect/clients`,
// which nobody subscribes to).
const acked = conns.map((c, i) =>
  c.publishAsync(`burst/v1/node/n${i}/status`, "offline", { qos: 1, retain: true }),
);
const ended = conns.map((c) => c.endAsync());
await Promise.allSettled([...acked, ...ended]);
const deadline = Date.now() + 30_000;
while (received < clients && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
process.stdout.write(`survived; subscriber got ${received} of ${clients} statuses\n`);
await subscriber.endAsync(true);
await broker.close();
process.exit(0);
