// `k3s-fleet up` (what `npm start` runs): embedded broker + coordinator + an agent for this machine.
import type { Command } from "commander";
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
    // Show the fleet as soon as the first sample is in, rather than a full report interval later.
    const first = setTimeout(() => stack.printNow(), config.agent.interval + 500);
    await untilSignal();
    clearTimeout(first);
    await simulation?.stop("shutdown");
    await agent.stop("shutdown");
    await stack.stop();
  });
}
