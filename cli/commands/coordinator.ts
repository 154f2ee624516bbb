// `k3s-fleet coordinator`: the headless coordinator, against an external broker or its own embedded one.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Command } from "commander";
import type { Logger } from "pino";
import type { FleetReport } from "../../proto/index.ts";
import { brokerSettings, coordinatorSettings, electorTimings } from "../config/defaults.ts";
import type { Config } from "../config/schema.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl, splitHostPort } from "../options.ts";
import { commandContext, untilSignal } from "../run.ts";
import { mqttAuth } from "../tls.ts";

export function addCoordinatorOptions(cmd: Command): Command {
  return cmd
    .option(
      "--report-interval <duration>",
      "how often the fleet report is built and published (default: 30s)",
    )
    .option("-o, --output <file>", "rewrite the latest human-readable report to this file every interval")
    .option("--quiet", "do not print reports to standard output")
    .option(
      "--http-listen <host:port|off>",
      "serve /healthz, /readyz, /metrics and the web view here (default 127.0.0.1:9464)",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use (default: in-cluster, KUBECONFIG, ~/.kube/config, k3s.yaml)",
    )
    .option("--standalone", "do not contact Kubernetes: nodes are the agents, decisions are advisory");
}

export function registerCoordinator(program: Command): void {
  addCommonOptions(
    addCoordinatorOptions(
      addBrokerOptions(
        program
          .command("coordinator")
          .description("aggregate fleet telemetry, publish reports, answer schedule requests")
          .option(
            "--embedded-broker [host:port]",
            "run the embedded MQTT broker here (default 127.0.0.1:1883)",
          )
          .option("--state-dir <dir>", "where state is kept: the scheduling store (default: ./data)"),
      ),
    ),
  ).action(async (opts) => {
    const embedded = opts.embeddedBroker !== undefined;
    // A bare --embedded-broker means "at the configured address" (broker.embedded), not a value to apply.
    if (opts.embeddedBroker === true) opts.embeddedBroker = undefined;
    const { config, logger } = commandContext(opts, "coordinator");
    // Listening from the start: a Ctrl-C during start-up stops cleanly once everything is up.
    const stopRequested = untilSignal();
    const stack = await startCoordinatorStack(config, logger, {
      embedded,
      output: opts.output,
      quiet: opts.quiet,
    });
    await stopRequested;
    await stack.stop();
  });
}

function embeddedBrokerOptions(config: Config) {
  const { listenTls, usersFile } = config.broker;
  return {
    ...brokerSettings(config),
    usersFile,
    tls:
      listenTls.certFile && listenTls.keyFile
        ? {
            cert: listenTls.certFile,
            key: listenTls.keyFile,
            ca: listenTls.caFile,
            requireClientCert: listenTls.requireClientCert,
          }
        : undefined,
  };
}

/** Leader election settings, when this instance is one of several replicas (see coordinator.leaderElection). */
export function leaderElectionOptions(config: Config, embedded: boolean) {
  const election = config.coordinator.leaderElection;
  const wanted =
    election.enabled === "auto" ? !embedded : election.enabled === true || election.enabled === "true";
  if (!wanted || config.k3s.standalone) return {};
  // client-go's default identity: host name plus something unique to this run.
  const identity = election.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  return {
    // Each replica needs its own MQTT client id, or the broker would hand one session back and forth.
    clientId: `k3s-fleet-coordinator-${identity}`,
    leaderElection: {
      namespace: election.namespace ?? config.k3s.namespace,
      leaseName: election.leaseName,
      identity,
      ...electorTimings(config),
    },
  };
}

export interface StackOptions {
  embedded: boolean;
  output?: string;
  quiet?: boolean;
  localNodeId?: string;
}

/** The coordinator service from config; reports go to stdout and/or a file. */
export async function startCoordinatorStack(config: Config, logger: Logger, options: StackOptions) {
  // Loaded here, not at the top: the agent image ships this CLI without coordinator/.
  const [{ startCoordinatorService }, { renderReport }, { schedulingSettings }] = await Promise.all([
    import("../../coordinator/service.ts"),
    import("../../coordinator/report/render.ts"),
    import("../config/scheduling.ts"),
  ]);
  const output = options.output ?? config.coordinator.output;
  // A wrong --output path fails at start-up, in one line (cli/main.ts), not at the first report.
  if (output) await writeFile(output, "", { flag: "a" });
  const onReport = (report: FleetReport) => {
    const text = renderReport(report);
    if (!options.quiet) process.stdout.write(`${text}\n`);
    if (output) {
      writeFile(output, text).catch((error: unknown) =>
        logger.error({ err: error, output }, "cannot write report"),
      );
    }
  };
  const service = await startCoordinatorService({
    // The coordinator enforces the per-node payload limit; the broker's cap only stops abuse, and must
    // leave room for the retained fleet report (about 200 bytes per node).
    embeddedBroker: options.embedded ? embeddedBrokerOptions(config) : undefined,
    localAgentNodeId: options.localNodeId,
    http:
      config.http.listen === "off"
        ? undefined
        : {
            ...splitHostPort(config.http.listen),
            web: { token: config.http.token, usersFile: config.broker.usersFile },
          },
    brokerUrl: brokerUrl(config),
    ...coordinatorSettings(config),
    localNodeId: options.localNodeId,
    mqtt: await mqttAuth(config),
    kubernetes: config.k3s.standalone
      ? undefined
      : {
          kubeconfigPath: config.k3s.kubeconfig,
          // The CLI is the process boundary: the cluster client reads in-cluster/KUBECONFIG settings from here.
          env: process.env,
          connectTimeoutMs: config.k3s.connectTimeout,
          metricsIntervalMs: config.k3s.metricsInterval,
        },
    scheduling: schedulingSettings(config),
    ...leaderElectionOptions(config, options.embedded),
    logger,
    onReport,
  });
  return {
    ...service,
    /** Builds, publishes (retained) and prints a report now: `k3s-fleet report` then finds what is on screen. */
    printNow: () => service.coordinator.publishReportNow(),
  };
}
