// k3s-fleet-agent: the agent's own command, `agent` and `capture` only. It is what the agent-only install,
// the agent image and the DaemonSet run, bundled by scripts/build-agent.ts into one JavaScript file
// (dist/k3s-fleet-agent.mjs) that needs nothing but `node`: no node_modules, no type stripping. Flags,
// environment and config file mean what they mean for `k3s-fleet agent|capture` (the same config schema and
// loader); parsing uses node:util, so no CLI library is loaded (agent/main.test.ts keeps the flags in step
// with the full CLI's).
import { parseArgs } from "node:util";
import { startAgentFromConfig } from "../cli/commands/agent.ts";
import { runCapture } from "../cli/commands/capture.ts";
import { splitHostPort } from "../cli/options.ts";
import { commandContext, untilSignal } from "../cli/run.ts";
import { AGENT_VERSION } from "./version.ts";

interface Flag {
  type: "string" | "boolean";
  short?: string;
  value?: string;
  help: string;
}

const COMMON: Record<string, Flag> = {
  config: {
    type: "string",
    short: "c",
    value: "file",
    help: "config file (default: config/config.yaml when present)",
  },
  "topic-root": { type: "string", value: "root", help: "MQTT topic root (default: k3s-fleet/v1)" },
  log: { type: "string", value: "file", help: "write logs to this file instead of standard error" },
  "log-level": { type: "string", value: "level", help: "trace, debug, info, warn, error or silent" },
  "log-format": {
    type: "string",
    value: "format",
    help: "auto: readable and coloured on a terminal, JSON lines otherwise (default: auto)",
  },
  help: { type: "boolean", short: "h", help: "this help" },
};

/** Per subcommand: its flags (long name → definition), as `k3s-fleet agent|capture` has them. */
export const AGENT_COMMANDS: Record<"agent" | "capture", { summary: string; flags: Record<string, Flag> }> = {
  agent: {
    summary: "sample this machine and publish telemetry over MQTT",
    flags: {
      broker: {
        type: "string",
        short: "b",
        value: "url",
        help: "MQTT broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://broker:8883",
      },
      username: { type: "string", value: "name", help: "MQTT username" },
      password: { type: "string", value: "secret", help: "MQTT password (prefer K3S_FLEET_BROKER_PASSWORD)" },
      keepalive: { type: "string", value: "duration", help: "MQTT keepalive (default: 10s)" },
      "node-name": {
        type: "string",
        value: "name",
        help: "node id in topics (default: NODE_NAME, else the hostname)",
      },
      interval: {
        type: "string",
        short: "i",
        value: "duration",
        help: "sampling interval, e.g. 1s, 5s (default: 5s)",
      },
      "state-dir": {
        type: "string",
        value: "dir",
        help: "session number and telemetry buffer (default: ./data)",
      },
      labels: { type: "string", value: "k=v,...", help: "labels published in the node's birth message" },
      "internet-target": { type: "string", value: "host:port", help: "TCP target for the internet check" },
      "metrics-listen": { type: "string", value: "host:port", help: "serve the agent's own /metrics here" },
      ...COMMON,
    },
  },
  capture: {
    summary: "print one snapshot of this machine (human-readable, or canonical proto3 JSON)",
    flags: {
      json: { type: "boolean", help: "print canonical proto3 JSON (NodeSnapshot)" },
      pretty: { type: "boolean", help: "print indented JSON (implies --json)" },
      output: { type: "string", short: "o", value: "file", help: "write the snapshot to this file" },
      "node-name": {
        type: "string",
        value: "name",
        help: "node id to report (default: NODE_NAME or the hostname)",
      },
      ...COMMON,
    },
  },
};

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "silent"];

function usage(): string {
  const lines = [
    `Usage: k3s-fleet-agent <command> [options]   (version ${AGENT_VERSION})`,
    "",
    "The k3s-fleet agent on its own. Commands:",
    ...Object.entries(AGENT_COMMANDS).map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`),
    "",
    "k3s-fleet-agent <command> --help lists its options. Settings: flags > K3S_FLEET_* environment >",
    "config file > defaults, as for k3s-fleet (README, Configuration).",
  ];
  return `${lines.join("\n")}\n`;
}

function commandUsage(name: keyof typeof AGENT_COMMANDS): string {
  const { summary, flags } = AGENT_COMMANDS[name];
  const rows = Object.entries(flags).map(([long, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${long}${f.value ? ` <${f.value}>` : ""}`;
    return `  ${left.padEnd(34)}${f.help}`;
  });
  return `Usage: k3s-fleet-agent ${name} [options]\n\n${summary}\n\nOptions:\n${rows.join("\n")}\n`;
}

/** camelCase, as commander names flag attributes (and cli/options.ts maps them onto config paths). */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === "--version" || command === "-V") {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage());
    return;
  }
  if (command !== "agent" && command !== "capture") {
    process.stderr.write(
      `k3s-fleet-agent: unknown command "${command}": this is the agent-only command (agent, capture); the coordinator and the other commands are in the full install (k3s-fleet)\n`,
    );
    process.exit(2);
  }
  const { flags } = AGENT_COMMANDS[command];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(flags).map(([long, f]) => [
          long,
          f.short ? { type: f.type, short: f.short } : { type: f.type },
        ]),
      ),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(
      `k3s-fleet-agent ${command}: ${(error as Error).message}\n\n${commandUsage(command)}`,
    );
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(commandUsage(command));
    return;
  }
  const level = values["log-level"];
  if (typeof level === "string" && !LOG_LEVELS.includes(level)) {
    process.stderr.write(`k3s-fleet-agent: --log-level must be one of ${LOG_LEVELS.join(", ")}\n`);
    process.exit(2);
  }
  const opts = Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v]));
  if (command === "agent") await runAgent(opts);
  else await runCapture(opts);
}

async function runAgent(opts: Record<string, unknown>): Promise<void> {
  const { config, logger } = commandContext(opts, "agent");
  const agent = await startAgentFromConfig(config, logger);
  const metrics = config.agent.metricsListen
    ? await (await import("./metrics-http.ts")).startAgentMetricsServer(
        agent,
        splitHostPort(config.agent.metricsListen).host,
        splitHostPort(config.agent.metricsListen).port,
      )
    : undefined;
  await untilSignal();
  await metrics?.close();
  await agent.stop("shutdown");
}
