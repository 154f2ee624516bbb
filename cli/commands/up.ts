// `k3s-fleet up` (what `npm start` runs): embedded broker + coordinator + an agent for this machine.
import type { Command } from "commander";
import { prettyLogs } from "../logger.ts";
import { addCommonOptions, nodeName } from "../options.ts";
import { commandContext, untilSignal } from "../run.ts";
import { addAgentOptions, startAgentFromConfig } from "./agent.ts";
import { addCoordinatorOptions, startCoordinatorStack } from "./coordinator.ts";
import { parseCount, startSimulationFromConfig } from "./simulate.ts";

export function registerUp(program: Command): void {
  addCommonOptions(
    addCoordinatorOptions(
      addAgentOptions(
        program
          .command("up")
          .description("run everything on this machine: embedded broker, coordinator and a local agent")
          .option(
            "--embedded-broker <host:port>",
            "where the embedded MQTT broker listens (default 127.0.0.1:1883)",
          )
          .option("--simulate <count>", "also run this many virtual nodes (a demo fleet)", parseCount),
      ),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "up");
    // Listening from the start: a Ctrl-C during start-up stops cleanly once everything is up.
    const stopRequested = untilSignal();
    // The local agent talks to the embedded broker, whatever broker.url says.
    const local = { ...config, broker: { ...config.broker, url: `mqtt://${config.broker.embedded}` } };
    const stack = await startCoordinatorStack(local, logger, {
      embedded: true,
      output: opts.output,
      quiet: opts.quiet,
      localNodeId: nodeName(config),
    });
    // Connect to the broker as it actually listens (mqtts:// with listenTls), with the account made for us.
    const agentConfig = {
      ...local,
      broker: { ...local.broker, url: stack.broker?.url ?? local.broker.url, ...stack.localAgentCredentials },
    };
    const agent = await startAgentFromConfig(agentConfig, logger);
    // A demo fleet: a compressed day so the report moves, and a few nodes that come and go.
    const simulation = opts.simulate
      ? await startSimulationFromConfig(agentConfig, logger, {
          nodes: opts.simulate,
          flapFraction: 0.1,
          dayMs: 600_000,
        })
      : undefined;
    if (prettyLogs(config)) {
      process.stderr.write(
        banner({
          broker: stack.broker?.url ?? agentConfig.broker.url ?? "",
          topicRoot: config.topicRoot,
          http: stack.http?.url,
          nodeId: nodeName(config),
        }),
      );
    }
    // Show the fleet as soon as the first sample is in, rather than a full report interval later.
    const first = setTimeout(() => stack.printNow(), config.agent.interval + 500);
    await stopRequested;
    clearTimeout(first);
    await simulation?.stop("shutdown");
    await agent.stop("shutdown");
    await stack.stop();
  });
}

/** What a person at a terminal needs first: where things are, and what to type next. */
export function banner(where: { broker: string; topicRoot: string; http?: string; nodeId: string }): string {
  const flags = where.broker === "mqtt://127.0.0.1:1883" ? "" : ` --broker ${where.broker}`;
  return [
    "",
    `k3s-fleet is up: MQTT broker ${where.broker}, topic root ${where.topicRoot}` +
      (where.http ? `, ${where.http}/metrics and /readyz` : ""),
    `this machine reports as node "${where.nodeId}"; the fleet report follows on standard output.`,
    "Next, in another terminal:",
    `  npx k3s-fleet report${flags}                    # the latest fleet report`,
    `  npx k3s-fleet schedule${flags} --pod-name demo --image nginx:latest --cpu 100m --memory 64Mi --dry-run`,
    `  npx k3s-fleet agent${flags} --node-name pi-01 --state-dir ./data-pi-01   # a second node`,
    "Ctrl-C stops everything (exit status 0).",
    "",
    "",
  ].join("\n");
}
