// k3s-fleet: one CLI, subcommands in the style of `k3s server|agent`. Each subcommand loads its runtime
// lazily, so `k3s-fleet agent` never loads coordinator or Kubernetes code.
import { Command } from "commander";
import { registerAgent } from "./commands/agent.ts";
import { registerCapture } from "./commands/capture.ts";
import { registerCoordinator } from "./commands/coordinator.ts";
import { registerEnroll } from "./commands/enroll.ts";
import { registerNodes } from "./commands/nodes.ts";
import { registerPasswd } from "./commands/passwd.ts";
import { registerReport } from "./commands/report.ts";
import { registerSchedule } from "./commands/schedule.ts";
import { registerSimulate } from "./commands/simulate.ts";
import { registerTop } from "./commands/top.ts";
import { registerUp } from "./commands/up.ts";
import { VERSION } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command("k3s-fleet")
    .description(
      "Edge fleet telemetry over MQTT, aggregated with K3s cluster state, and a scheduler that uses it",
    )
    .version(VERSION)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });
  registerUp(program);
  registerAgent(program);
  registerCoordinator(program);
  registerCapture(program);
  registerSchedule(program);
  registerReport(program);
  registerTop(program);
  registerNodes(program);
  registerPasswd(program);
  registerEnroll(program);
  registerSimulate(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`k3s-fleet: ${describeFailure(error)}\n`);
    process.exit(1);
  }
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
};

/** One line a user can act on; the stack only for errors we did not anticipate. */
function describeFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === "EADDRINUSE") {
    return `${e.address ?? ""}:${e.port ?? ""} is already in use (another broker?): choose another with --embedded-broker HOST:PORT`;
  }
  if (e?.code === "EACCES" && e.port !== undefined) return `no permission to listen on port ${e.port}`;
  if (typeof e?.code === "string" && e.code.startsWith("K3SF_ERR")) return e.message;
  // An ordinary mistake with a file (a wrong --output or --config path): the path and why, no stack.
  if (typeof e?.path === "string" && typeof e.code === "string" && FILE_ERRORS[e.code]) {
    return `${e.path}: ${FILE_ERRORS[e.code]}`;
  }
  return e instanceof Error ? (e.stack ?? e.message) : String(error);
}
