// `k3s-fleet nodes forget NODE`: remove a node that is gone for good (replaced, renamed, removed) from the
// fleet now, instead of waiting for `coordinator.expireOfflineAfter`. It deletes the node's retained birth
// and status the MQTT way (an empty retained message on each); the coordinator forgets a node whose
// retained birth or status is deleted. A node still running comes back with its next message.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { keepaliveSeconds } from "../config/defaults.ts";
import { connectFailure } from "../connect-errors.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl } from "../options.ts";
import { commandContext, exitWith } from "../run.ts";
import { mqttAuth } from "../tls.ts";

export function registerNodes(program: Command): void {
  const nodes = program.command("nodes").description("manage the nodes the coordinator knows");
  addCommonOptions(
    addBrokerOptions(
      nodes
        .command("forget")
        .argument("<node>", "node id, as the report shows it")
        .description(
          "drop a node gone for good from the fleet and clear its retained birth and status " +
            "(with authentication: the coordinator's user)",
        ),
    ),
  ).action(async (nodeId: string, opts) => {
    const { config, logger } = commandContext(opts, "nodes");
    const [{ Link }, proto] = await Promise.all([
      import("../../mqtt/link.ts"),
      import("../../proto/index.ts"),
    ]);
    const problem = proto.nodeIdProblem(nodeId);
    if (exitWith(problem, 2)) return;
    const topics = proto.topicsFor(config.topicRoot);
    const auth = await mqttAuth(config);
    const link = new Link({
      url: brokerUrl(config),
      keepaliveSeconds: keepaliveSeconds(config),
      clientId: `k3s-fleet-nodes-${randomBytes(4).toString("hex")}`,
      logger: logger.child({ module: "nodes" }, { level: "error" }),
      ...auth,
      backoff: { maxMs: 1000 },
      stableMs: 0,
    });
    const outcome = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(`no connection to ${brokerUrl(config)} within 10s`), 10_000);
      link.on("disconnect", (error) => {
        const failure = connectFailure(error, brokerUrl(config), auth.username);
        if (failure === undefined) return;
        clearTimeout(timer);
        resolve(failure);
      });
      link.on("connect", () => {
        const clear = (topic: string) =>
          link.publishRaw({ topic, payload: new Uint8Array(0), qos: 1, retain: true });
        Promise.all([clear(topics.birth(nodeId)), clear(topics.nodeStatus(nodeId))]).then(
          () => {
            clearTimeout(timer);
            resolve(undefined);
          },
          (error: unknown) => {
            clearTimeout(timer);
            resolve(`cannot clear ${nodeId}'s retained messages: ${(error as Error).message}`);
          },
        );
      });
      link.start().catch(() => undefined);
    });
    await link.close();
    if (exitWith(outcome)) return;
    process.stdout.write(
      `forgot ${nodeId}: its retained birth and status are cleared and the coordinator drops it now; ` +
        "if it is still running it comes back with its next message\n",
    );
  });
}
