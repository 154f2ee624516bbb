// Without Docker: the agent image's source set, exactly as deploy/docker/agent.Dockerfile copies it, must run
// `agent` and `capture` while importing no package the image leaves out (the Kubernetes client, aedes,
// prom-client, dev dependencies). Catches a new import from agent-side code into coordinator-only code in
// every `npm test`, not only where the images are built (.ci/containers.sh).
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, "deploy/docker/agent.Dockerfile"), "utf8");

/** The runtime stage's `COPY <src> <dest>` lines from the build context (not `--from=` a stage). */
function runtimeCopies(): Array<[string, string]> {
  const stages = DOCKERFILE.split(/^FROM\s.*$/m);
  const runtime = stages[stages.length - 1] ?? "";
  return [...runtime.matchAll(/^COPY\s+(?!--)(\S+)\s+(\S+)\s*$/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]);
}

function leftOutPackages(): string[] {
  const arg = /^ARG COORDINATOR_ONLY_DEPENDENCIES="([^"]*)"/m.exec(DOCKERFILE);
  return (arg?.[1] ?? "").split(/\s+/).filter(Boolean);
}

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const allowed = Object.keys(pkg.dependencies).filter((name) => !leftOutPackages().includes(name));

// Resolution hook: a bare import from the app's own files (not from inside node_modules) must name an
// allowed package; otherwise the run fails as it would in the image.
const HOOK = `
import { registerHooks } from "node:module";
const allowed = new Set(${JSON.stringify(allowed)});
const app = new URL("./", import.meta.url).href;
registerHooks({
  resolve(specifier, context, next) {
    const parent = context.parentURL ?? "";
    const bare = !/^(node:|\\.|\\/|file:|data:)/.test(specifier) && !specifier.startsWith("#");
    if (bare && parent.startsWith(app) && !parent.includes("/node_modules/")) {
      const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
      const builtin = process.getBuiltinModule?.(specifier) !== undefined;
      if (!builtin && !allowed.has(name)) {
        throw new Error("agent image lacks package " + name + " (imported by " + parent.slice(app.length) + ")");
      }
    }
    return next(specifier, context);
  },
});
`;

describe("agent image sources (deploy/docker/agent.Dockerfile)", () => {
  let dir = "";
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "./only-image-packages.mjs", ...args], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, K3S_FLEET_LOGGING_LEVEL: "error" },
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "k3sf-agent-image-"));
    for (const [src, dest] of runtimeCopies()) cpSync(join(ROOT, src), join(dir, dest), { recursive: true });
    // What the image copies from its deps stage: node_modules (checked by the hook) and package.json.
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    writeFileSync(join(dir, "only-image-packages.mjs"), HOOK);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("copies the CLI, the agent and what they share, and leaves the Kubernetes client out", () => {
    const sources = runtimeCopies().map(([src]) => src);
    expect(sources).toEqual(expect.arrayContaining(["bin", "cli", "proto", "mqtt", "agent"]));
    expect(sources).not.toContain("coordinator");
    expect(leftOutPackages()).toContain("@kubernetes/client-node");
  });

  it("`agent --help` runs", () => {
    const result = run("bin/k3s-fleet.js", "agent", "--help");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/sample this machine and publish telemetry/);
  });

  it("the agent runtime and `capture` load and run with only the image's packages", () => {
    const load = run(
      "--input-type=module",
      "-e",
      'await import("./cli/commands/agent.ts"); await import("./agent/agent.ts"); await import("./agent/capture.ts");',
    );
    expect(load.status, load.stderr).toBe(0);
    const capture = run("bin/k3s-fleet.js", "capture", "--json", "--node-name", "image-check");
    expect(capture.status, capture.stderr).toBe(0);
    expect(JSON.parse(capture.stdout)).toMatchObject({ birth: { nodeId: "image-check" } });
  });

  it("the check itself refuses a left-out package", () => {
    writeFileSync(join(dir, "probe.mjs"), 'import "@kubernetes/client-node";\n');
    const result = run("probe.mjs");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /agent image lacks package @kubernetes\/client-node \(imported by probe\.mjs\)/,
    );
  });
});
