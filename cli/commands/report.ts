// `k3s-fleet report`: connect to the broker and print the latest retained fleet report.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { keepaliveSeconds } from "../config/defaults.ts";
import { parseDuration } from "../config/duration.ts";
import { connectFailure, refusedSubscription } from "../connect-errors.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl, durationArg } from "../options.ts";
import { commandContext, exitWith } from "../run.ts";
import { mqttAuth } from "../tls.ts";

export function registerReport(program: Command): void {
  addCommonOptions(
    addBrokerOptions(
      program
        .command("report")
        .description("print the latest fleet report published by the coordinator")
        .option("--json", "print canonical proto3 JSON (FleetReport)")
        .option("--pretty", "print indented JSON (implies --json)")
        .option("--timeout <duration>", "how long to wait for a retained report", durationArg(), "5s"),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "report");
    const [{ Link }, proto, { renderReport }] = await Promise.all([
      import("../../mqtt/link.ts"),
      import("../../proto/index.ts"),
      import("../../coordinator/report/render.ts"),
    ]);
    const timeoutMs = parseDuration(opts.timeout) ?? 5000;
    const topics = proto.topicsFor(config.topicRoot);
    const link = new Link({
      url: brokerUrl(config),
      keepaliveSeconds: keepaliveSeconds(config),
      clientId: `k3s-fleet-report-${randomBytes(4).toString("hex")}`,
      // Connection trouble is said once, in plain words, below; the link's own warnings would repeat it.
      logger: logger.child({ module: "report" }, { level: "error" }),
      ...(await mqttAuth(config)),
      backoff: { maxMs: 1000 },
      // A one-shot command: a dropped connection is an answer, not something to wait out.
      stableMs: 0,
    });
    const auth = await mqttAuth(config);
    let failure: string | undefined;
    const report = await new Promise<import("../../proto/index.ts").FleetReport | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      const fail = (reason: string | undefined) => {
        if (reason === undefined) return;
        failure = reason;
        clearTimeout(timer);
        resolve(undefined);
      };
      link.on("disconnect", (error) => fail(connectFailure(error, brokerUrl(config), auth.username)));
      link.onMessage((topic, payload) => {
        if (topic !== topics.report) return;
        const decoded = proto.decode("report", payload);
        if (!decoded.ok) return logger.error({ detail: decoded.detail }, "retained report does not decode");
        clearTimeout(timer);
        resolve(decoded.message);
      });
      link.on("connect", () => {
        link
          .subscribeGranted([topics.report])
          .then((granted) => fail(refusedSubscription(granted, [topics.report])))
          .catch((error: unknown) => logger.error({ err: error }, "subscribe failed"));
      });
      link.start().catch(() => undefined);
    });
    await link.close();
    if (exitWith(failure)) return;
    if (!report) {
      process.stderr.write(
        `k3s-fleet: no fleet report on ${topics.report} at ${brokerUrl(config)} within ${opts.timeout}\n`,
      );
      process.exitCode = 1;
      return;
    }
    const json = Boolean(opts.json || opts.pretty);
    process.stdout.write(
      json ? `${proto.toJson("report", report, Boolean(opts.pretty))}\n` : `${renderReport(report)}\n`,
    );
  });
}
