// One agent with the real sample source in its own process: what bench/agent.bench.ts measures, and what
// agent/agent.test.ts kills with SIGKILL to see the broker publish the Will.
// Usage: node bench/agent-child.ts --url mqtt://127.0.0.1:1883 --node-id bench-01 --interval 1000
//          --state-dir /tmp/k3sf-bench [--root k3s-fleet/v1] [--internet host:port] [--log-level warn]
import { parseArgs } from "node:util";
import pino from "pino";
import { startAgent } from "../agent/agent.ts";
import { AGENT_DEFAULTS } from "../test/support/defaults.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: AGENT_DEFAULTS.brokerUrl },
    "node-id": { type: "string", default: "bench-01" },
    interval: { type: "string", default: "1000" },
    "state-dir": { type: "string", default: "/tmp/k3sf-bench-state" },
    root: { type: "string", default: AGENT_DEFAULTS.topicRoot },
    internet: { type: "string" },
    "log-level": { type: "string", default: "warn" },
  },
});

const logger = pino({ level: values["log-level"] }, pino.destination(2));
const agent = await startAgent({
  ...AGENT_DEFAULTS,
  nodeId: values["node-id"],
  brokerUrl: values.url,
  topicRoot: values.root,
  intervalMs: Number(values.interval),
  stateDir: values["state-dir"],
  internet: { ...AGENT_DEFAULTS.internet, target: values.internet },
  logger,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void agent.stop(signal).then(() => process.exit(0));
  });
}
