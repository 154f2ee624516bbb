// `k3s-fleet enroll NODE...`: give each node its own MQTT user in the embedded broker's users file and print
// one command per node that installs its credentials there (as K3s prints a join command): no password is
// copied by hand. The command writes NODE_NAME and the K3S_FLEET_BROKER_* settings into
// /etc/k3s-fleet/agent.env (the agent unit's EnvironmentFile; other lines are kept) and restarts the agent.
// It travels base64-encoded, so no shell quoting can break it, also through ssh.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";

export interface EnrollTarget {
  nodeId: string;
  brokerUrl: string;
  password: string;
}

/** The shell script a node runs to take its credentials (K3SF_CONFIG_DIR overrides /etc/k3s-fleet). */
export function enrollScript(t: EnrollTarget): string {
  return [
    "set -eu",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'dir="${K3SF_CONFIG_DIR:-/etc/k3s-fleet}"',
    "umask 077",
    'mkdir -p "$dir"',
    'touch "$dir/agent.env"',
    'grep -v -E \'^(NODE_NAME|K3S_FLEET_BROKER_(URL|USERNAME|PASSWORD))=\' "$dir/agent.env" > "$dir/agent.env.new" || true',
    "cat >> \"$dir/agent.env.new\" <<'EOF'",
    `NODE_NAME=${t.nodeId}`,
    `K3S_FLEET_BROKER_URL=${t.brokerUrl}`,
    `K3S_FLEET_BROKER_USERNAME=${t.nodeId}`,
    `K3S_FLEET_BROKER_PASSWORD=${t.password}`,
    "EOF",
    'mv "$dir/agent.env.new" "$dir/agent.env"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
    'if [ -z "${K3SF_CONFIG_DIR:-}" ] && [ -d /run/systemd/system ]; then',
    "  systemctl restart k3s-fleet-agent",
    `  echo "${t.nodeId}: enrolled, k3s-fleet-agent restarted"`,
    "else",
    `  echo "${t.nodeId}: enrolled, credentials in $dir/agent.env"`,
    "fi",
    "",
  ].join("\n");
}

/**
 * A node id as one literal piece of a shell word: as is when it holds only characters no shell treats
 * specially, else single-quoted (node ids may hold `$`, `;`, spaces, quotes: they must not run here).
 */
export function shellWordPart(text: string): string {
  return /^[A-Za-z0-9._-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** One line: run on the node itself, or from here through `ssh` with a `{node}` host template. */
export function enrollCommand(t: EnrollTarget, ssh?: string): string {
  const encoded = Buffer.from(enrollScript(t)).toString("base64");
  const target = ssh?.replaceAll("{node}", shellWordPart(t.nodeId));
  const run = target ? `ssh ${target} 'base64 -d | sudo sh'` : "base64 -d | sudo sh";
  return `printf %s '${encoded}' | ${run}   # ${t.nodeId}`;
}

export function registerEnroll(program: Command): void {
  program
    .command("enroll")
    .description("give nodes their own MQTT user and print one install command per node")
    .argument("<nodes...>", "node ids (also their MQTT usernames)")
    .requiredOption("-f, --file <users.yaml>", "the embedded broker's users file (created when missing)")
    .requiredOption(
      "-b, --broker <url>",
      "the broker URL as the nodes reach it, e.g. mqtt://coordinator.lan:1883",
    )
    .option("--ssh <destination>", "print ssh commands to run from here, e.g. 'pi@{node}.local'")
    .action(async (nodes: string[], opts) => {
      const { addUser } = await import("../../coordinator/broker/auth/index.ts");
      const { nodeIdProblem } = await import("../../proto/index.ts");
      const problems = nodes.map((n) => nodeIdProblem(n)).filter((p) => p !== undefined);
      const broker = URL.parse(opts.broker);
      if (broker === null || !/^(mqtts?|tcp|ssl):$/.test(broker.protocol) || broker.hostname === "")
        problems.push(
          `--broker ${opts.broker} is not an MQTT broker URL: expected mqtt://HOST:PORT or mqtts://HOST:PORT`,
        );
      if (new Set(nodes).size !== nodes.length) problems.push("a node is named twice");
      if (problems.length > 0) {
        process.stderr.write(`k3s-fleet: ${problems.join("; ")}\n`);
        process.exitCode = 2;
        return;
      }
      if (broker && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(broker.hostname))
        process.stderr.write(
          `k3s-fleet: --broker ${opts.broker} is this machine's loopback: a node on another machine would ` +
            "connect to itself; give the address the nodes reach this machine at\n",
        );
      for (const nodeId of nodes) {
        const password = randomBytes(18).toString("base64url");
        // A node already enrolled gets a new password: its old command stops working.
        await addUser(opts.file, nodeId, "node", password);
        process.stdout.write(`${enrollCommand({ nodeId, brokerUrl: opts.broker, password }, opts.ssh)}\n`);
      }
      process.stderr.write(
        `k3s-fleet: ${nodes.length} node(s) in ${opts.file}; run each line on its node` +
          `${opts.ssh ? " (they use ssh)" : " (as a user who may sudo)"}; the lines hold passwords: do not keep them\n`,
      );
    });
}
