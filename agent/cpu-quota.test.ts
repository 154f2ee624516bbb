import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { coresWithQuota, effectiveCores, readCpuQuota } from "./cpu-quota.ts";
import { parseCpuMax } from "./procfs.ts";

describe("coresWithQuota", () => {
  it.each([
    { available: 8, quota: undefined, cores: 8 },
    { available: 8, quota: 2, cores: 2 },
    { available: 8, quota: 1.5, cores: 2 },
    { available: 8, quota: 0.25, cores: 1 },
    { available: 2, quota: 16, cores: 2 },
  ])("$available cores with quota $quota → $cores", ({ available, quota, cores }) => {
    expect(coresWithQuota(available, quota)).toBe(cores);
  });
});

describe("readCpuQuota", () => {
  let root: string;
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>): Promise<{ procRoot: string; cgroupRoot: string }> {
    root = await mkdtemp(join(tmpdir(), "k3sf-cgroup-"));
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return { procRoot: join(root, "proc"), cgroupRoot: join(root, "cgroup") };
  }

  it("takes the tightest cgroup v2 cpu.max on the way to the root", async () => {
    const roots = await tree({
      "proc/self/cgroup": "0::/kubepods.slice/pod1/agent\n",
      "cgroup/kubepods.slice/pod1/agent/cpu.max": "max 100000\n",
      "cgroup/kubepods.slice/pod1/cpu.max": "50000 100000\n",
      "cgroup/kubepods.slice/cpu.max": "400000 100000\n",
    });
    expect(await readCpuQuota(roots)).toBe(0.5);
  });

  it("reads cgroup v1 cfs quota, also when the path is the host's view", async () => {
    const roots = await tree({
      "proc/self/cgroup": "4:cpu,cpuacct:/docker/abc\n0::/\n",
      "cgroup/cpu/cpu.cfs_quota_us": "150000\n",
      "cgroup/cpu/cpu.cfs_period_us": "100000\n",
    });
    expect(await readCpuQuota(roots)).toBe(1.5);
  });

  it("finds no quota when none is set", async () => {
    const roots = await tree({ "proc/self/cgroup": "0::/\n", "cgroup/cpu.max": "max 100000\n" });
    expect(await readCpuQuota(roots)).toBeUndefined();
  });
});

describe("effectiveCores on this machine", () => {
  it("is os.availableParallelism() or the cgroup v2 quota when that is lower", async () => {
    const cores = await effectiveCores();
    const cpuMax = await readFile("/sys/fs/cgroup/cpu.max", "utf8").catch(() => "");
    const quota = parseCpuMax(cpuMax);
    const expected = [availableParallelism()];
    if (quota !== undefined) expected.push(Math.max(1, Math.ceil(quota)));
    expect(expected).toContain(cores);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
  });
});
