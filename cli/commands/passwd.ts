// `k3s-fleet passwd`: manage the embedded broker's users file (roles and salted scrypt password hashes).
import { randomBytes } from "node:crypto";
import { text } from "node:stream/consumers";
import { type Command, Option } from "commander";

export function registerPasswd(program: Command): void {
  program
    .command("passwd")
    .description("add, update or delete a user of the embedded broker's users file")
    .argument("<username>", "the MQTT username (for a node: by default also its node id)")
    .requiredOption("-f, --file <users.yaml>", "users file (created when missing, mode 0600)")
    .addOption(
      new Option("-r, --role <role>", "what the user may do").choices([
        "node",
        "scheduler",
        "coordinator",
        "viewer",
      ]),
    )
    .option("--node-id <id>", "node role: the node id it publishes as (default: the username)")
    .option("--password-stdin", "read the password from standard input (default: generate and print one)")
    .option("--cert", "no password: the user logs in with a TLS client certificate whose CN is the username")
    .option("--delete", "remove the user")
    .action(async (username: string, opts) => {
      const { addUser, removeUser } = await import("../../coordinator/broker/auth/index.ts");
      if (opts.delete) {
        const removed = await removeUser(opts.file, username);
        process.stdout.write(removed ? `removed ${username}\n` : `no user ${username} in ${opts.file}\n`);
        if (!removed) process.exitCode = 1;
        return;
      }
      if (!opts.role)
        throw Object.assign(new Error("--role is required (node, scheduler, coordinator, viewer)"), {
          code: "K3SF_ERR_USAGE",
        });
      let password: string | null = null;
      let generated = false;
      if (!opts.cert) {
        password = opts.passwordStdin
          ? (await text(process.stdin)).replace(/\r?\n$/, "")
          : randomBytes(18).toString("base64url");
        generated = !opts.passwordStdin;
        if (password.length === 0)
          throw Object.assign(new Error("empty password"), { code: "K3SF_ERR_USAGE" });
      }
      const { created } = await addUser(opts.file, username, opts.role, password, { nodeId: opts.nodeId });
      process.stdout.write(
        `${created ? "added" : "updated"} ${username} (${opts.role})${opts.cert ? ", certificate login" : ""}\n`,
      );
      if (generated) process.stdout.write(`password: ${password}\n`);
    });
}
