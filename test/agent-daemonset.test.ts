// The agent DaemonSet (deploy/k3s/50-agent.yaml) against what was measured (issue 14): its memory limit must
// hold 1.5 × the steady RSS that bench/agent-footprint.bench.ts recorded for the way the DaemonSet runs the
// agent (bench/agent-footprint.json), it must run it that way (the bundle, the benchmarked V8 flags), and
// it must read the host through read-only mounts of /proc, /sys and /.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8");

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value?: string }[];
  resources: { requests: { memory: string }; limits: { memory: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
const daemonSet = parseAllDocuments(read("../deploy/k3s/50-agent.yaml"))
  .map((d) => d.toJS())
  .find((o) => o?.kind === "DaemonSet") as {
  spec: {
    template: { spec: { containers: Container[]; volumes: { name: string; hostPath?: { path: string } }[] } };
  };
};
const pod = daemonSet.spec.template.spec;
const agent = pod.containers.find((c) => c.args?.[0] === "agent") as Container;

const bench = JSON.parse(read("../bench/agent-footprint.json")) as {
  agentNodeFlags: string[];
  results: { label: string; steadyRssMiB: number; maxRssMiB: number }[];
};

/** Kubernetes memory quantity in MiB (Mi, Gi, M, or bytes). */
function mib(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported quantity ${quantity}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    "": 1 / 2 ** 20,
  };
  return Number(match[1]) * (factor[match[2] ?? ""] as number);
}

describe("agent DaemonSet", () => {
  it("runs the bundled agent with the V8 flags the benchmark measured", () => {
    expect(agent.command).toEqual(["node", ...bench.agentNodeFlags, "/app/k3s-fleet-agent.mjs"]);
  });

  it("limits memory to at least 1.5 × the measured steady RSS, and requests at least that RSS", () => {
    const measured = bench.results.filter((r) => r.label.startsWith("bundle+flags @"));
    expect(measured.length).toBeGreaterThan(0);
    const steady = Math.max(...measured.map((r) => r.steadyRssMiB));
    expect(mib(agent.resources.limits.memory)).toBeGreaterThanOrEqual(1.5 * steady);
    expect(mib(agent.resources.requests.memory)).toBeGreaterThanOrEqual(steady);
  });

  it("reads the host's /proc, /sys and / through read-only mounts named in agent.procRoot/sysRoot/rootfs", () => {
    const env = Object.fromEntries(agent.env.map((e) => [e.name, e.value]));
    const hostPaths = {
      K3S_FLEET_AGENT_PROC_ROOT: "/proc",
      K3S_FLEET_AGENT_SYS_ROOT: "/sys",
      K3S_FLEET_AGENT_ROOTFS: "/",
    };
    for (const [name, hostPath] of Object.entries(hostPaths)) {
      const mount = agent.volumeMounts.find((m) => m.mountPath === env[name]);
      expect(mount, name).toBeDefined();
      expect(mount?.readOnly, name).toBe(true);
      expect(pod.volumes.find((v) => v.name === mount?.name)?.hostPath?.path, name).toBe(hostPath);
    }
  });
});
