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
import { describeFailure } from "./failure.ts";
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
