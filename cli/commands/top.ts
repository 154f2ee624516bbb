// `k3s-fleet top`: a live terminal view of the fleet from the coordinator's retained report (with its
// last decisions) and the nodes' births, statuses and telemetry over MQTT (any broker; the viewer role is
// enough); with `--web URL` the last decisions come from the coordinator's web view instead (its whole
// decision window, not only the report's last 10). Keys: c, m, d, n sort by CPU, memory, disk, name; l
// filters by label; q quits. `--once` prints plain text once.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { keepaliveSeconds } from "../config/defaults.ts";
import { parseDuration } from "../config/duration.ts";
import { addBrokerOptions, addCommonOptions, brokerUrl, durationArg } from "../options.ts";
import { commandContext } from "../run.ts";
import { mqttAuth } from "../tls.ts";
import { SORT_KEYS, type SortKey, withoutLastChar } from "./top-keys.ts";
import type { TopModel } from "./top-view.ts";

const SORT_BY_KEY: Record<string, SortKey> = { c: "cpu", m: "memory", d: "disk", n: "name" };
const REDRAW_MS = 1000;
const DECISIONS_EVERY_MS = 2000;

export function registerTop(program: Command): void {
  addCommonOptions(
    addBrokerOptions(
      program
        .command("top")
        .description(
          "live terminal view of the fleet: nodes by CPU, states, scheduling (viewer role is enough)",
        )
        .option("--once", "print the fleet once as plain text and exit (for scripts and CI)")
        .option("--sort <key>", `sort by ${SORT_KEYS.join(" | ")}`, "cpu")
        .option("--label <key[=value]>", "only nodes with this label")
        .option("--timeout <duration>", "how long to wait for the retained report", durationArg(), "5s")
        .option(
          "--web <url>",
          "the coordinator's HTTP address (http.listen): read the last decisions from its web view, not the report",
        )
        .option("--decisions <n>", "last decisions shown (the report lists at most 10)", "10"),
    ),
  ).action(async (opts) => {
    const { config, logger } = commandContext(opts, "top");
    if (!SORT_KEYS.includes(opts.sort)) {
      throw Object.assign(new Error(`--sort must be one of ${SORT_KEYS.join(", ")}`), {
        code: "K3SF_ERR_TOP_SORT",
      });
    }
    const [{ Link }, proto] = await Promise.all([
      import("../../mqtt/link.ts"),
      import("../../proto/index.ts"),
    ]);
    const decisionsShown = Number(opts.decisions);
    if (!Number.isInteger(decisionsShown) || decisionsShown < 0) {
      throw Object.assign(new Error("--decisions must be a whole number"), {
        code: "K3SF_ERR_TOP_DECISIONS",
      });
    }
    const topics = proto.topicsFor(config.topicRoot);
    const timeoutMs = parseDuration(opts.timeout) ?? 5000;
    // The view (and the coordinator code it reads) loads only when `top` runs: other commands stay small.
    const { renderTop, TopModel } = await import("./top-view.ts");
    const model = new TopModel();
    if (opts.web !== undefined) model.decisionsFrom = "web";
    const view = {
      sort: opts.sort as SortKey,
      label: (opts.label as string | undefined) ?? "",
      decisions: decisionsShown,
    };
    const auth = await mqttAuth(config);
    const link = new Link({
      url: brokerUrl(config),
      keepaliveSeconds: keepaliveSeconds(config),
      clientId: `k3s-fleet-top-${randomBytes(4).toString("hex")}`,
      logger: logger.child({ module: "top" }),
      ...auth,
      backoff: { maxMs: 2000 },
    });
    let dirty = true;
    // The last decisions from the web view: the same token as the coordinator's config, else the MQTT
    // viewer's user name and password (the web view takes users-file viewers over HTTP basic).
    const readDecisions = async (): Promise<boolean> => {
      if (opts.web === undefined) return true;
      const { fetchDecisions } = await import("./top-decisions.ts");
      try {
        model.decisions = await fetchDecisions(
          {
            url: opts.web,
            token: config.http.token,
            username: auth.username,
            password: auth.password,
            timeoutMs,
          },
          Math.max(1, decisionsShown),
        );
        model.decisionsProblem = undefined;
        return true;
      } catch (error) {
        model.decisions ??= [];
        model.decisionsProblem = (error as Error).message;
        return false;
      } finally {
        dirty = true;
      }
    };
    const firstReport = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      link.onMessage((topic, payload) => {
        const parsed = proto.parseTopic(config.topicRoot, topic);
        if (!parsed.ok) return;
        const t = parsed.topic;
        const now = Date.now();
        if (t.kind === "report") {
          const decoded = proto.decode("report", payload);
          if (!decoded.ok) return;
          model.applyReport(decoded.message, now);
          clearTimeout(timer);
          resolve(true);
        } else if (t.kind === "birth") {
          const decoded = proto.decode("birth", payload);
          if (decoded.ok) model.applyBirth(t.nodeId, decoded.message);
        } else if (t.kind === "telemetry") {
          const decoded = proto.decode("telemetry", payload);
          if (decoded.ok) model.applyTelemetry(t.nodeId, decoded.message, now);
        } else if (t.kind === "nodeStatus") {
          const decoded = proto.decode("nodeStatus", payload);
          if (decoded.ok) model.applyStatus(t.nodeId, decoded.message);
        }
        dirty = true;
      });
    });
    link.on("connect", () => {
      // Births first (retained), so labels are known when the report names the nodes; --once needs no telemetry.
      const filters = opts.once
        ? [topics.filters.allNodes.replace(/\+$/, "birth"), topics.report]
        : [topics.filters.allNodes, topics.report];
      link.subscribe(filters).catch((error: unknown) => logger.error({ err: error }, "subscribe failed"));
    });
    link.start().catch(() => undefined);
    const [gotReport, gotDecisions] = await Promise.all([firstReport, readDecisions()]);
    if (opts.once) {
      // Retained births arrive with the report; give the last of them a moment.
      await new Promise((r) => setTimeout(r, 200));
      await link.close();
      if (!gotReport) {
        process.stderr.write(
          `k3s-fleet: no fleet report on ${topics.report} at ${brokerUrl(config)} within ${opts.timeout}\n`,
        );
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${renderTop(model, { ...view, now: Date.now(), width: 120, color: false })}\n`);
      if (!gotDecisions) {
        process.stderr.write(`k3s-fleet: ${model.decisionsProblem}\n`);
        process.exitCode = 1;
      }
      return;
    }
    let reading = false;
    const poll = setInterval(() => {
      if (reading) return;
      reading = true;
      void readDecisions().finally(() => {
        reading = false;
      });
    }, DECISIONS_EVERY_MS);
    try {
      await interactive(model, view, () => {
        const was = dirty;
        dirty = false;
        return was;
      });
    } finally {
      clearInterval(poll);
      await link.close();
    }
  });
}

/** Redraws at most once a second while anything changed, reads keys on a TTY, ends on q or a signal. */
async function interactive(
  model: TopModel,
  view: { sort: SortKey; label: string; decisions: number },
  takeDirty: () => boolean,
) {
  const { renderTop } = await import("./top-view.ts");
  const out = process.stdout;
  const tty = Boolean(out.isTTY);
  const color = tty && !process.env.NO_COLOR;
  let prompt: string | undefined;
  const draw = () => {
    const footer =
      prompt !== undefined
        ? `label filter: ${prompt}█`
        : "keys: c cpu  m memory  d disk  n name  l label filter  q quit";
    const text = renderTop(model, {
      ...view,
      now: Date.now(),
      width: out.columns || 120,
      height: tty ? (out.rows || 40) - 1 : undefined,
      color,
      footer: tty ? footer : undefined,
    });
    out.write(tty ? `\u001b[H\u001b[2J${text}\n` : `${text}\n\n`);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (takeDirty()) draw();
    }, REDRAW_MS);
    const finish = () => {
      clearInterval(timer);
      if (tty) out.write("\u001b[?25h\u001b[?1049l");
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve();
    };
    process.once("SIGINT", finish);
    process.once("SIGTERM", finish);
    if (tty) out.write("\u001b[?1049h\u001b[?25l");
    draw();
    if (!process.stdin.isTTY) return;
    process.stdin.setRawMode(true);
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => {
      // Arrow and function keys arrive as escape sequences: not ours. Pasted or fast typing: one key at a time.
      if (chunk.length > 1 && chunk.startsWith("\u001b")) return;
      for (const key of chunk) onKey(key);
      draw();
    });
    const onKey = (key: string) => {
      if (prompt !== undefined) {
        if (key === "\r" || key === "\n") {
          view.label = prompt.trim();
          prompt = undefined;
        } else if (key === "\u001b") prompt = undefined;
        else if (key === "\u007f" || key === "\b") prompt = withoutLastChar(prompt);
        else if (key >= " ") prompt += key;
        return;
      }
      if (key === "q" || key === "\u0003") return finish();
      const sort = SORT_BY_KEY[key];
      if (sort) view.sort = sort;
      else if (key === "l") prompt = view.label;
    };
  });
}
