// `k3s-fleet nodes forget NODE`: remove a node that is gone for good (replaced, renamed, removed) from the
// fleet now, instead of waiting for `coordinator.expireOfflineAfter`. It deletes the node's retained birth
// and status the MQTT way (an empty retained message on each); the coordinator forgets a node whose
// retained birth or status is deleted. A node still running comes back with its next message.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { Link } from "../../mqtt/link.ts";
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
        const mine = [topics.birth(nodeId), topics.nodeStatus(nodeId)];
        forgetChecked(link, mine, () => Promise.all(mine.map(clear)).then(() => undefined)).then(
          (problem) => {
            clearTimeout(timer);
            resolve(
              problem &&
                (problem === "unknown"
                  ? `nothing is retained for node "${nodeId}" on ${brokerUrl(config)} that this user may read ` +
                    "(if the coordinator still listed it, it drops it now): check the name (`k3s-fleet report` " +
                    "lists them) and use the coordinator's user"
                  : `the broker kept ${nodeId}'s retained birth or status: this user may not clear them ` +
                    "(the coordinator's user may)"),
            );
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

/** How long retained messages may take to follow a SUBACK. */
const RETAINED_WAIT_MS = 500;

/**
 * Clears the node's retained messages and checks they went: "unknown" when nothing retained was seen for the
 * node before (a typo, or a user that may not read it), "kept" when it is still there after the clear (a user the
 * broker does not let clear it: MQTT 3.1.1 cannot refuse a publish, it is dropped).
 */
async function forgetChecked(
  link: Link,
  mine: string[],
  clear: () => Promise<void>,
): Promise<"unknown" | "kept" | undefined> {
  let seen = 0;
  link.onMessage((topic, payload) => {
    if (mine.includes(topic) && payload.byteLength > 0) seen += 1;
  });
  // Subscribing again to the same filters makes the broker send what is retained again (MQTT 3.1.1 §3.8.4).
  const retained = async () => {
    seen = 0;
    await link.subscribeGranted(mine);
    await new Promise((resolve) => setTimeout(resolve, RETAINED_WAIT_MS));
    return seen;
  };
  // Nothing retained: cleared all the same (a node the coordinator holds without retained messages is
  // dropped on the empty message), but said, since a typo is the likelier cause.
  const before = await retained();
  await clear();
  if ((await retained()) > 0) return "kept";
  return before === 0 ? "unknown" : undefined;
}
