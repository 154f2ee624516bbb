// `k3s-fleet agent`: the per-node agent against any MQTT 3.1.1 broker.
import type { Command } from "commander";
import { agentBufferSettings, agentSettings } from "../config/defaults.ts";
import type { Config } from "../config/schema.ts";
import { addBrokerOptions, addCommonOptions, nodeName, splitHostPort } from "../options.ts";
import { commandContext, untilSignal } from "../run.ts";
import { mqttAuth } from "../tls.ts";

export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option("--node-name <name>", "node id in topics (default: NODE_NAME, else the hostname)")
    .option("-i, --interval <duration>", "sampling interval, e.g. 1s, 5s (default: 5s)")
    .option(
      "--state-dir <dir>",
      "where the agent keeps its session number and telemetry buffer (default: ./data)",
    )
    .option("--labels <k=v,...>", "labels published in the node's birth message")
    .option("--internet-target <host:port>", "TCP target for the internet check (default: not checked)")
    .option("--metrics-listen <host:port>", "serve the agent's own Prometheus /metrics here (default: off)");
}

export function registerAgent(program: Command): void {
  addCommonOptions(
    addAgentOptions(
      addBrokerOptions(
        program.command("agent").description("sample this machine and publish telemetry over MQTT"),
      ),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "agent");
    const agent = await startAgentFromConfig(config, logger);
    const metrics = config.agent.metricsListen
      ? await (await import("../../agent/metrics-http.ts")).startAgentMetricsServer(
          agent,
          ...hostAndPort(config.agent.metricsListen),
        )
      : undefined;
    // A second machine with this node id is told to stop by the coordinator: one line, exit 1.
    const ended = await Promise.race([untilSignal(), agent.fatal]);
    await metrics?.close();
    await agent.stop("shutdown");
    if (typeof ended !== "string") {
      process.stderr.write(`k3s-fleet agent: ${ended.message}\n`);
      process.exit(1);
    }
  });
}

export async function startAgentFromConfig(config: Config, logger: import("pino").Logger) {
  const { startAgent } = await import("../../agent/agent.ts");
  return startAgent({
    ...agentSettings(config),
    nodeId: nodeName(config),
    buffer: agentBufferSettings(config),
    mqtt: await mqttAuth(config),
    // The agent's id is the Kubernetes node name unless --node-name says otherwise (DaemonSet: NODE_NAME).
    k8sNodeName: nodeName(config),
    logger,
  });
}

function hostAndPort(listen: string): [string, number] {
  const { host, port } = splitHostPort(listen);
  return [host, port];
}
