// `k3s-fleet capture`: one snapshot of this machine, as the old tool's capture mode printed it.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { addCommonOptions, nodeName } from "../options.ts";
import { commandContext } from "../run.ts";

export function registerCapture(program: Command): void {
  addCommonOptions(
    program
      .command("capture")
      .description("print one snapshot of this machine (human-readable, or canonical proto3 JSON)")
      .option("--json", "print canonical proto3 JSON (NodeSnapshot)")
      .option("--pretty", "print indented JSON (implies --json)")
      .option("-o, --output <file>", "write the snapshot to this file instead of standard output")
      .option("--node-name <name>", "node id to report (default: NODE_NAME or the hostname)"),
  ).action(runCapture);
}

/** `capture`: one snapshot, as text or canonical proto3 JSON; shared with the bundled agent's CLI. */
export async function runCapture(opts: Record<string, unknown>): Promise<void> {
  const { config, logger } = commandContext(opts, "capture");
  const output = typeof opts.output === "string" ? opts.output : undefined;
  const [{ captureSnapshot, renderSnapshot }, { messageToJson, NodeSnapshotSchema }] = await Promise.all([
    import("../../agent/capture.ts"),
    import("../../proto/index.ts"),
  ]);
  // A wrong --output path fails now, in one line, not after the sampling.
  if (output) await writeFile(output, "", { flag: "a" });
  const snapshot = await captureSnapshot({
    nodeId: nodeName(config),
    intervalMs: config.agent.interval,
    labels: config.agent.labels,
    internet: internetOptions(config.agent),
    roots: hostRoots(config.agent),
    logger,
  });
  const json = Boolean(opts.json || opts.pretty);
  const text = json
    ? `${messageToJson(NodeSnapshotSchema, snapshot, Boolean(opts.pretty))}\n`
    : renderSnapshot(snapshot);
  if (output) await writeFile(output, text);
  else process.stdout.write(text);
}

/** Where the host's /proc, /sys and / are (agent.procRoot, sysRoot, rootfs). */
export function hostRoots(agent: { procRoot: string; sysRoot: string; rootfs: string }) {
  return { procRoot: agent.procRoot, sysRoot: agent.sysRoot, rootfs: agent.rootfs };
}

export function internetOptions(agent: {
  internetTarget?: string;
  internetTimeout: number;
  internetEvery: number;
}) {
  return { target: agent.internetTarget, timeoutMs: agent.internetTimeout, everyMs: agent.internetEvery };
}
