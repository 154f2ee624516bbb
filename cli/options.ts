// Flags shared by subcommands, and their mapping onto config paths (flags are the top config layer).
import { hostname } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { durationProblem } from "./config/duration.ts";
import { setPath } from "./config/env.ts";
import type { Config } from "./config/schema.ts";

/** Flag attribute name (commander camelCases it) → config path. */
export const FLAG_PATHS: Record<string, string[]> = {
  topicRoot: ["topicRoot"],
  broker: ["broker", "url"],
  embeddedBroker: ["broker", "embedded"],
  username: ["broker", "username"],
  password: ["broker", "password"],
  keepalive: ["broker", "keepalive"],
  nodeName: ["agent", "nodeName"],
  interval: ["agent", "interval"],
  stateDir: ["agent", "stateDir"],
  labels: ["agent", "labels"],
  internetTarget: ["agent", "internetTarget"],
  reportInterval: ["coordinator", "reportInterval"],
  namespace: ["k3s", "namespace"],
  kubeconfig: ["k3s", "kubeconfig"],
  httpListen: ["http", "listen"],
  metricsListen: ["agent", "metricsListen"],
  standalone: ["k3s", "standalone"],
  log: ["logging", "file"],
  logLevel: ["logging", "level"],
  logFormat: ["logging", "format"],
};

/**
 * Commander argument parser for a duration flag that is not a config setting (`--timeout`, `--day`):
 * refuses what is not a duration, or is shorter than `min` ms or longer than a timer can wait, at parse
 * time with commander's usual message; returns the text unchanged.
 */
export const durationArg =
  (min = 1) =>
  (text: string): string => {
    const problem = durationProblem(text, min);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    return text;
  };

export function flagsToConfig(opts: Record<string, unknown>): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [flag, path] of Object.entries(FLAG_PATHS)) {
    if (opts[flag] !== undefined) setPath(layer, path, opts[flag]);
  }
  return layer;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option("-c, --config <file>", "config file (default: config/config.yaml when present)")
    .option("--topic-root <root>", "MQTT topic root (default: k3s-fleet/v1)")
    .option("--log <file>", "write logs to this file instead of standard error")
    .addOption(
      new Option("--log-level <level>", "log level").choices([
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "silent",
      ]),
    )
    .addOption(
      new Option(
        "--log-format <format>",
        "auto: readable and coloured on a terminal, JSON lines otherwise (default: auto)",
      ).choices(["auto", "json", "pretty"]),
    );
}

export function addBrokerOptions(cmd: Command): Command {
  return cmd
    .option("-b, --broker <url>", "MQTT broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://broker:8883")
    .option("--username <name>", "MQTT username")
    .option("--password <secret>", "MQTT password (prefer K3S_FLEET_BROKER_PASSWORD)")
    .option(
      "--keepalive <duration>",
      "MQTT keepalive; a dead peer is noticed after 1.5× this (default: 10s)",
    );
}

/** The URL clients connect to: the configured external broker, or the embedded one's address. */
export function brokerUrl(config: Config): string {
  return config.broker.url ?? `mqtt://${config.broker.embedded}`;
}

/** This machine's node id: --node-name, K3S_FLEET_AGENT_NODE_NAME, NODE_NAME (downward API), the hostname. */
export function nodeName(config: Config): string {
  return config.agent.nodeName ?? hostname();
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(hostPort.slice(colon + 1)) };
}
