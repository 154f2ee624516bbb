// The printed `--ssh` line runs in the operator's shell: a node id with `$(…)`, `;`, a quote or a space must
// reach ssh as part of one host argument, never run here. Checked by running the line with a stand-in `ssh`
// that records its arguments.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCliToEnd } from "../../test/support/cli.ts";
import { enrollCommand } from "./enroll.ts";

function runWithFakeSsh(line: string): { args: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "k3sf-enroll-"));
  const ssh = join(dir, "ssh");
  writeFileSync(ssh, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > /dev/null\n`);
  chmodSync(ssh, 0o755);
  execFileSync("sh", ["-c", line], { cwd: dir, env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  return { args: readFileSync(join(dir, "args"), "utf8").split("\n").slice(0, -1), dir };
}

describe("enroll --ssh lines", () => {
  it.each(["pi$(touch PWNED)", "pi;touch PWNED", "pi`touch PWNED`", "pi'q", "pi x"])(
    "keep node id %j one literal piece of the ssh host",
    (nodeId) => {
      const line = enrollCommand(
        { nodeId, brokerUrl: "mqtt://10.0.0.1:1883", password: "pw" },
        "pi@{node}.local",
      );
      const { args, dir } = runWithFakeSsh(line);
      expect(args[0]).toBe(`pi@${nodeId}.local`);
      expect(args[1]).toBe("base64 -d | sudo sh");
      expect(existsSync(join(dir, "PWNED"))).toBe(false);
    },
  );

  it("leaves plain node ids and the operator's own ssh options as they are", () => {
    const line = enrollCommand(
      { nodeId: "pi-01", brokerUrl: "mqtt://10.0.0.1:1883", password: "pw" },
      "-p 2222 pi@{node}.local",
    );
    expect(line).toContain("| ssh -p 2222 pi@pi-01.local 'base64 -d | sudo sh'");
    expect(runWithFakeSsh(line).args.slice(0, 3)).toEqual(["-p", "2222", "pi@pi-01.local"]);
  });
});

describe("enroll --broker", () => {
  it.each([
    ["coordinator.lan:1883", "is not an MQTT broker URL"],
    ["http://coordinator.lan:1883", "is not an MQTT broker URL"],
    ["mqtt://", "is not an MQTT broker URL"],
  ])("refuses %j before writing a user or printing a command", async (broker, why) => {
    const file = join(mkdtempSync(join(tmpdir(), "k3sf-enroll-")), "users.yaml");
    const r = await runCliToEnd(["enroll", "pi-1", "--file", file, "--broker", broker]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--broker ${broker} ${why}: expected mqtt://HOST:PORT or mqtts://HOST:PORT`);
    expect(r.stdout).toBe("");
    expect(existsSync(file)).toBe(false);
  });

  it("says that nodes on other machines cannot reach a loopback broker, and still enrolls", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "k3sf-enroll-")), "users.yaml");
    const r = await runCliToEnd(["enroll", "pi-1", "--file", file, "--broker", "mqtt://127.0.0.1:1883"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "--broker mqtt://127.0.0.1:1883 is this machine's loopback: a node on another machine would connect to itself",
    );
    expect(r.stdout).toContain("printf %s");
    expect(existsSync(file)).toBe(true);
  });
});
