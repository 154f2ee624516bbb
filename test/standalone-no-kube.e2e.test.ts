// A standalone coordinator never loads the Kubernetes client (issue 16, boundaries): `k3s-fleet up
// --standalone` runs broker, coordinator, scheduling and an agent, answers a schedule request, and the
// process's module trace (test/support/module-trace.ts) must hold no @kubernetes/client-node file. Lint
// cannot see this: one value import through a barrel (placement's or cluster's index.ts) loads it all.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT, runCli, runCliToEnd } from "./support/cli.ts";
import { freePort } from "./support/ports.ts";

const TRACE_HOOK = fileURLToPath(new URL("./support/module-trace.ts", import.meta.url));
const KUBE_CLIENT = "/node_modules/@kubernetes/client-node/";

function traced(dir: string): { env: NodeJS.ProcessEnv; packages: () => string[] } {
  const file = join(dir, "modules.txt");
  return {
    env: { NODE_OPTIONS: `--import ${TRACE_HOOK}`, K3SF_MODULE_TRACE: file },
    packages: () => readFileSync(file, "utf8").split("\n").filter(Boolean),
  };
}

describe("standalone coordinator", () => {
  it("`up --standalone` runs, schedules and stops without loading @kubernetes/client-node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k3sf-standalone-modules-"));
    const trace = traced(dir);
    const port = await freePort();
    const up = runCli(
      [
        ...["up", "--standalone", "--embedded-broker", `127.0.0.1:${port}`, "--state-dir", dir],
        ...["--interval", "300ms", "--report-interval", "1s"],
      ],
      { ...trace.env, K3S_FLEET_SCHEDULING_STORE: join(dir, "scheduling.sqlite") },
    );
    try {
      await up.waitForStdout(/Total Nodes: 1 {3}Online: 1/, 20_000);
      const decision = await runCliToEnd(
        [
          ...["schedule", "--broker", `mqtt://127.0.0.1:${port}`, "--timeout", "10s", "--dry-run"],
          ...["--pod-name", "probe", "--image", "nginx:latest", "--cpu", "10m", "--memory", "16Mi"],
        ],
        { K3S_FLEET_LOGGING_LEVEL: "silent" },
      );
      // A decision came back (this shared machine's real CPU may make the one node unschedulable).
      expect(decision.stdout, decision.stderr).toMatch(/^(SCHEDULED|UNSCHEDULABLE) default\/probe/m);
      up.kill("SIGINT");
      expect(await up.exited).toBe(0);
    } finally {
      up.kill("SIGKILL");
    }
    const packages = trace.packages();
    // The trace saw the process's packages (so an empty trace cannot pass) ...
    expect(packages.some((url) => url.includes("/node_modules/aedes/"))).toBe(true);
    expect(packages.some((url) => url.includes("/node_modules/mqtt/"))).toBe(true);
    // ... and none of them is the Kubernetes client.
    expect(packages.filter((url) => url.includes(KUBE_CLIENT))).toEqual([]);
  });

  it("the trace does see the Kubernetes client when the cluster edge is loaded", () => {
    const trace = traced(mkdtempSync(join(tmpdir(), "k3sf-cluster-modules-")));
    const run = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", 'await import("./coordinator/cluster/index.ts");'],
      { cwd: ROOT, env: { ...process.env, ...trace.env }, encoding: "utf8" },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(trace.packages().some((url) => url.includes(KUBE_CLIENT))).toBe(true);
  });
});
