// `k3s-fleet simulate`: N virtual agents, each its own MQTT connection, for demos and load tests.
import { type Command, InvalidArgumentError } from "commander";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl, durationArg } from "../options.ts";
import { commandContext, untilSignal } from "../run.ts";

export function registerSimulate(program: Command): void {
  addCommonOptions(
    addBrokerOptions(
      program
        .command("simulate")
        .description(
          "run N virtual agents (own connection, birth, Will, session and seq each) against a broker",
        )
        .requiredOption("-n, --nodes <count>", "number of virtual nodes", parseCount)
        .option("-i, --interval <duration>", "sampling interval of each virtual node (default: 5s)")
        .option("--prefix <name>", "node id prefix: <prefix>-00001 ...", "sim")
        .option(
          "--flap <fraction>",
          "fraction of nodes that drop off and come back now and then",
          parseFraction,
        )
        .option("--seed <n>", "seed for reproducible fleets", (v) => Number.parseInt(v, 10))
        .option(
          "--day <duration>",
          "length of the simulated day (diurnal CPU cycle), e.g. 10m for a demo",
          durationArg(1000),
        ),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "simulate");
    // Listening from the start: a Ctrl-C during start-up stops cleanly once everything is up.
    const stopRequested = untilSignal();
    const sim = await startSimulationFromConfig(config, logger, {
      nodes: opts.nodes,
      prefix: opts.prefix,
      flapFraction: opts.flap,
      seed: opts.seed,
      dayMs: opts.day ? (await import("../config/duration.ts")).parseDuration(opts.day) : undefined,
    });
    const stats = setInterval(() => logger.info(sim.stats(), "simulation"), 10_000);
    await stopRequested;
    clearInterval(stats);
    await sim.stop("shutdown");
  });
}

export interface SimulateChoice {
  nodes: number;
  prefix?: string;
  flapFraction?: number;
  seed?: number;
  dayMs?: number;
}

export async function startSimulationFromConfig(config: Config, logger: Logger, choice: SimulateChoice) {
  const { startSimulation } = await import("../../simulator/index.ts");
  return startSimulation({
    brokerUrl: brokerUrl(config),
    nodes: choice.nodes,
    intervalMs: config.agent.interval,
    topicRoot: config.topicRoot,
    prefix: choice.prefix,
    flapFraction: choice.flapFraction,
    seed: choice.seed,
    model: choice.dayMs ? { diurnalPeriodMs: choice.dayMs } : undefined,
    keepaliveSeconds: Math.max(1, Math.round(config.broker.keepalive / 1000)),
    username: config.broker.username,
    password: config.broker.password,
    logger, // fleet-sim.ts adds module: "simulator"
  });
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new InvalidArgumentError("expected a whole number from 1 to 100000");
  }
  return n;
}

function parseFraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a fraction from 0 to 1");
  return n;
}
