// Logical cores the agent may use: os.availableParallelism() (CPU affinity), lowered to the cgroup CPU
// quota when one is set. In a container or a systemd unit with CPUQuota=, the machine's core count
// overstates what the node can give, so reports and the scheduler would over-commit.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseCfsQuota, parseCpuMax, parseSelfCgroup } from "./procfs.ts";

/**
 * Cores from the affinity count and a quota in CPUs. A fractional quota rounds up (1.5 CPUs can keep
 * two cores partly busy) and never reports fewer than one core or more than the affinity allows.
 */
export function coresWithQuota(available: number, quotaCpus: number | undefined): number {
  if (quotaCpus === undefined) return available;
  return Math.max(1, Math.min(available, Math.ceil(quotaCpus)));
}

export interface CgroupRoots {
  procRoot?: string;
  cgroupRoot?: string;
}

/**
 * The tightest CPU quota on the way from this process's cgroup to the root, in CPUs, or undefined.
 * cgroup v2 (`cpu.max`) first; cgroup v1 (`cpu.cfs_quota_us`) where the cpu controller is still on v1.
 */
export async function readCpuQuota(roots: CgroupRoots = {}): Promise<number | undefined> {
  const procRoot = roots.procRoot ?? "/proc";
  const cgroupRoot = roots.cgroupRoot ?? "/sys/fs/cgroup";
  const self = parseSelfCgroup(await readText(join(procRoot, "self/cgroup")));
  let quota: number | undefined;
  const tighter = (q: number | undefined) => {
    if (q !== undefined && (quota === undefined || q < quota)) quota = q;
  };
  if (self.v2 !== undefined) {
    for (const dir of ancestors(self.v2))
      tighter(parseCpuMax(await readText(join(cgroupRoot, dir, "cpu.max"))));
  }
  if (self.v1Cpu !== undefined) {
    // Inside a container the v1 path names the host's view; the container sees its own cgroup at the root.
    for (const controller of ["cpu", "cpu,cpuacct"]) {
      for (const dir of new Set([self.v1Cpu, "/"])) {
        const base = join(cgroupRoot, controller, dir);
        tighter(
          parseCfsQuota(
            await readText(join(base, "cpu.cfs_quota_us")),
            await readText(join(base, "cpu.cfs_period_us")),
          ),
        );
      }
    }
  }
  return quota;
}

export async function effectiveCores(roots: CgroupRoots = {}): Promise<number> {
  return coresWithQuota(availableParallelism(), await readCpuQuota(roots));
}

/** "/a/b" → ["/a/b", "/a", "/"]. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, parts.length - i).join("/")}`).concat("/");
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return ""; // absent file = no limit at this level
  }
}
