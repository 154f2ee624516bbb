// `k3s-fleet schedule`: send a ScheduleRequest over MQTT, wait for the coordinator's decision, print it
// with its reasoning. Exits 0 when the pod was scheduled, 1 otherwise (unschedulable, refused, error, or
// no answer in time). The request id makes retries safe: the same id never creates a second pod.
import { randomBytes, randomUUID } from "node:crypto";
import type { Command } from "commander";
import { keepaliveSeconds } from "../config/defaults.ts";
import { parseDuration } from "../config/duration.ts";
import { connectFailure, refusedSubscription } from "../connect-errors.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl, durationArg } from "../options.ts";
import { commandContext, exitWith } from "../run.ts";
import { mqttAuth } from "../tls.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `key=value` pairs (repeatable, or comma-separated) as a map; throws on a pair without '='. */
/** How often an unanswered request is sent again (same request id). */
const RESEND_EVERY_MS = 3_000;

export function keyValues(pairs: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (pairs ?? []).flatMap((p) => p.split(",")).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`${flag} expects key=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** kubectl-taint style: `key=value:Effect`, `key:Effect` or `key` (no value: operator Exists). */
export function toleration(text: string): { key: string; operator: string; value: string; effect: string } {
  const colon = text.lastIndexOf(":");
  const effect = colon >= 0 ? text.slice(colon + 1) : "";
  const kv = colon >= 0 ? text.slice(0, colon) : text;
  const eq = kv.indexOf("=");
  return eq >= 0
    ? { key: kv.slice(0, eq), operator: "Equal", value: kv.slice(eq + 1), effect }
    : { key: kv, operator: "Exists", value: "", effect };
}

export function registerSchedule(program: Command): void {
  addCommonOptions(
    addBrokerOptions(
      program
        .command("schedule")
        .description("ask the coordinator to place a pod, and print its decision and reasoning")
        .requiredOption("--pod-name <name>", "name of the pod to create")
        .requiredOption("--image <image>", "container image, e.g. nginx:latest")
        .option("--cpu <quantity>", "CPU request, e.g. 500m", "100m")
        .option("--memory <quantity>", "memory request, e.g. 512Mi", "128Mi")
        .option("--cpu-limit <quantity>", "CPU limit (default: none)")
        .option("--memory-limit <quantity>", "memory limit (default: none)")
        .option("-n, --namespace <namespace>", "namespace of the pod (default: k3s.namespace)")
        .option("-l, --label <key=value>", "pod label (repeatable)", collect)
        .option("--node-selector <key=value>", "node selector (repeatable)", collect)
        .option("--toleration <key[=value][:effect]>", "toleration (repeatable)", collect)
        .option("--dry-run", "decide only: create and bind nothing")
        .option("--request-id <id>", "idempotency key (default: a new UUID); reuse it to retry safely")
        .option("--timeout <duration>", "how long to wait for the decision", durationArg(), "10s")
        .option("--json", "print the decision as canonical proto3 JSON (ScheduleDecision)")
        .option("--pretty", "print indented JSON (implies --json)"),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "schedule");
    const [{ Link }, proto, { renderDecision }] = await Promise.all([
      import("../../mqtt/link.ts"),
      import("../../proto/index.ts"),
      import("../../coordinator/report/scheduling-render.ts"),
    ]);
    const timeoutMs = parseDuration(opts.timeout);
    if (timeoutMs === undefined) {
      process.stderr.write(`k3s-fleet: --timeout ${JSON.stringify(opts.timeout)} is not a duration\n`);
      process.exitCode = 2;
      return;
    }
    const topics = proto.topicsFor(config.topicRoot);
    const clientId = `k3s-fleet-schedule-${randomBytes(4).toString("hex")}`;
    const replyTo = topics.scheduleReply(clientId);
    const namespace = config.k3s.namespace;
    let request: import("../../proto/index.ts").ScheduleRequest;
    try {
      request = proto.createMessage("scheduleRequest", {
        requestId: opts.requestId ?? randomUUID(),
        replyTo,
        podName: opts.podName,
        namespace,
        image: opts.image,
        cpuRequest: opts.cpu,
        memoryRequest: opts.memory,
        cpuLimit: opts.cpuLimit ?? "",
        memoryLimit: opts.memoryLimit ?? "",
        labels: keyValues(opts.label, "--label"),
        nodeSelector: keyValues(opts.nodeSelector, "--node-selector"),
        tolerations: (opts.toleration ?? []).map(toleration),
        dryRun: Boolean(opts.dryRun),
        // Nobody waits for the answer after --timeout: a request still queued somewhere then is refused.
        deadline: proto.timestamp(Date.now() + timeoutMs),
      });
    } catch (error) {
      process.stderr.write(`k3s-fleet: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    const link = new Link({
      url: brokerUrl(config),
      keepaliveSeconds: keepaliveSeconds(config),
      clientId,
      // Connection trouble is said once, in plain words, below; the link's own warnings would repeat it.
      logger: logger.child({ module: "schedule" }, { level: "error" }),
      ...(await mqttAuth(config)),
      backoff: { maxMs: 1000 },
      // A one-shot command: a dropped connection is an answer, not something to wait out.
      stableMs: 0,
    });
    const auth = await mqttAuth(config);
    let failure: string | undefined;
    const decision = await new Promise<import("../../proto/index.ts").ScheduleDecision | undefined>(
      (resolve) => {
        // Resent with the same id until answered: a request that reached a coordinator as it lost leadership
        // (or no coordinator at all) is answered by the next one, and never acted on twice.
        const send = () =>
          link
            .publish("scheduleRequest", topics.scheduleRequest, request)
            .catch((error: unknown) => logger.error({ err: error }, "cannot send the schedule request"));
        const resend = setInterval(() => {
          if (link.connected) send();
        }, RESEND_EVERY_MS);
        const timer = setTimeout(() => {
          clearInterval(resend);
          resolve(undefined);
        }, timeoutMs);
        const fail = (reason: string | undefined) => {
          if (reason === undefined) return;
          failure = reason;
          clearTimeout(timer);
          clearInterval(resend);
          resolve(undefined);
        };
        link.on("disconnect", (error) => fail(connectFailure(error, brokerUrl(config), auth.username)));
        link.onMessage((topic, payload) => {
          if (topic !== replyTo) return;
          const decoded = proto.decode("scheduleDecision", payload);
          if (!decoded.ok) return logger.error({ detail: decoded.detail }, "reply does not decode");
          if (decoded.message.requestId !== request.requestId) return;
          clearTimeout(timer);
          clearInterval(resend);
          resolve(decoded.message);
        });
        // On every (re)connect: subscribe, then (re)send. Resending is safe: the request id is the key.
        link.on("connect", () => {
          link
            .subscribeGranted([replyTo])
            .then((granted) => {
              const refused = refusedSubscription(granted, [replyTo]);
              if (refused)
                return fail(`${refused}: this user may not schedule (it needs the scheduler role)`);
              return send();
            })
            .catch((error: unknown) => logger.error({ err: error }, "cannot send the schedule request"));
        });
        link.start().catch(() => undefined);
      },
    );
    await link.close();
    if (exitWith(failure)) return;
    if (decision === undefined) {
      process.stderr.write(
        `k3s-fleet: no decision for request ${request.requestId} on ${replyTo} within ${opts.timeout} ` +
          `(is a coordinator running at ${brokerUrl(config)}?)\n`,
      );
      process.exitCode = 1;
      return;
    }
    const json = Boolean(opts.json || opts.pretty);
    process.stdout.write(
      json
        ? `${proto.toJson("scheduleDecision", decision, Boolean(opts.pretty))}\n`
        : `${renderDecision(decision, `${namespace}/${opts.podName}`)}\n`,
    );
    if (decision.status !== proto.DecisionStatus.SCHEDULED) process.exitCode = 1;
  });
}
