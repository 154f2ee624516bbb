// The shipped K3s manifests against a real kube-apiserver: every file in deploy/k3s passes a server-side
// apply with server dry-run (full admission and validation, including what the OpenAPI schemas in
// deploy-manifests.test.ts cannot express), with kubectl from the same Kubernetes release. The namespace
// and RBAC are applied for real first (startRealCluster), as `kubectl apply -f deploy/k3s` would in order:
// a dry-run of namespaced objects needs their namespace to exist.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.ts";
import { realApiServerAvailable } from "../support/kube-binaries.ts";
import { type RealCluster, startRealCluster } from "./cluster.ts";

const available = realApiServerAvailable();
const FILES = readdirSync(join(ROOT, "deploy/k3s"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe.skipIf(!available)("deploy/k3s on a real kube-apiserver", () => {
  let cluster: RealCluster;
  beforeAll(async () => {
    cluster = await startRealCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it("has manifests to check", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(7);
  });

  it.each(FILES)(
    "%s: server-side apply --dry-run=server passes",
    async (file) => {
      const { stdout, stderr } = await cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=k3s-fleet-test",
        "--dry-run=server",
        "-f",
        join("deploy/k3s", file),
      );
      // One "serverside-applied (server dry run)" line per object in the file.
      const lines = stdout.trim().split("\n");
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
      // No warnings either (deprecated APIs, unknown fields dropped, PodSecurity).
      expect(stderr).toBe("");
    },
    60_000,
  );

  it("a dry run stores nothing", async () => {
    const deployments = await cluster.kubectl("get", "deployments,daemonsets", "-A", "-o", "name");
    expect(deployments.stdout.trim()).toBe("");
  });
});
