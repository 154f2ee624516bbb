import { execFile } from "node:child_process";
import dc from "node:diagnostics_channel";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCpuMax, parseDefaultRoute } from "./procfs.ts";
import { createSystemSource } from "./sample-source.ts";
import { isRealFilesystem } from "./shape.ts";

async function memTotalBytes(): Promise<number> {
  const kib = /^MemTotal:\s+(\d+) kB/m.exec(await readFile("/proc/meminfo", "utf8"))?.[1];
  return Number(kib) * 1024;
}

describe("system source on this machine", () => {
  const source = createSystemSource();

  it("reports memory total equal to /proc/meminfo MemTotal, in facts and in readings", async () => {
    const [facts, reading, expected] = await Promise.all([source.facts(), source.read(), memTotalBytes()]);
    expect(facts.memoryTotalBytes).toBe(expected);
    expect(reading.memory.totalBytes).toBe(expected);
    expect(reading.memory.availableBytes).toBeGreaterThan(0);
    expect(reading.memory.availableBytes).toBeLessThanOrEqual(expected);
  });

  it("counts cores as os.availableParallelism() or the cgroup v2 quota", async () => {
    const [facts, reading] = await Promise.all([source.facts(), source.read()]);
    const quota = parseCpuMax(await readFile("/sys/fs/cgroup/cpu.max", "utf8").catch(() => ""));
    const allowed = [availableParallelism(), ...(quota === undefined ? [] : [Math.max(1, Math.ceil(quota))])];
    expect(allowed).toContain(reading.cores);
    expect(facts.cpu.cores).toBe(reading.cores);
    const statCores = (await readFile("/proc/stat", "utf8")).split("\n").filter((l) => /^cpu\d+ /.test(l));
    expect(reading.cpuCores).toHaveLength(statCores.length);
  });

  it("reads the default route, real filesystems and reported interfaces only", async () => {
    const reading = await source.read();
    const route = await readFile("/proc/net/route", "utf8");
    const route6 = await readFile("/proc/net/ipv6_route", "utf8").catch(() => "");
    expect(reading.defaultInterface).toBe(parseDefaultRoute(route, route6));
    expect(reading.filesystems.every(isRealFilesystem)).toBe(true);
    expect(reading.interfaces.some((i) => i.name === "lo" || i.name.startsWith("veth"))).toBe(false);
    expect(reading.cpuTotal.total).toBeGreaterThan(0);
    expect(reading.uptimeSeconds).toBeGreaterThan(0);
  });

  it("starts no child process per reading", async () => {
    await source.read(); // first read finds the temperature sensor and cgroup quota
    let spawned = 0;
    const onSpawn = () => {
      spawned += 1;
    };
    dc.subscribe("child_process", onSpawn);
    try {
      for (let i = 0; i < 3; i += 1) await source.read();
    } finally {
      dc.unsubscribe("child_process", onSpawn);
    }
    expect(spawned).toBe(0);
    // Control: the channel does see a spawn, so the zero above means something.
    dc.subscribe("child_process", onSpawn);
    try {
      await new Promise((resolve) => execFile("true", resolve));
    } finally {
      dc.unsubscribe("child_process", onSpawn);
    }
    expect(spawned).toBe(1);
  });
});

describe("system source on a fixture /proc and /sys", () => {
  let root: string;
  let mountPoint: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "k3sf-source-"));
    mountPoint = join(root, "data");
    const files: Record<string, string> = {
      "proc/stat":
        "cpu  300 0 100 600 0 0 0 0 0 0\ncpu0 200 0 50 250 0 0 0 0 0 0\ncpu1 100 0 50 350 0 0 0 0 0 0\n",
      "proc/meminfo":
        "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 600 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
      "proc/diskstats": "   8       0 sda 1 0 10 0 1 0 20 0 0 0 0\n",
      "proc/net/dev":
        "h1\nh2\n    lo: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n  eth0: 500 0 0 0 0 0 0 0 300 0 0 0 0 0 0 0\n   wg0: 5 0 0 0 0 0 0 0 3 0 0 0 0 0 0 0\nveth01: 9 0 0 0 0 0 0 0 9 0 0 0 0 0 0 0\n",
      "proc/net/route":
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nwg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n",
      "proc/self/mounts": `/dev/fake1 ${mountPoint} ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n`,
      "sys/class/net/eth0/flags": "0x1003\n",
      "sys/class/net/eth0/operstate": "up\n",
      "sys/class/net/wg0/flags": "0x91\n",
      "sys/class/net/wg0/operstate": "unknown\n",
      "data/.keep": "",
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("turns the files into one reading", async () => {
    const source = createSystemSource({
      procRoot: join(root, "proc"),
      sysRoot: join(root, "sys"),
      monotonic: () => 42,
    });
    const reading = await source.read();
    expect(reading).toMatchObject({
      monoMs: 42,
      cpuTotal: { busy: 400, total: 1000 },
      cpuCores: [
        { busy: 250, total: 500 },
        { busy: 150, total: 500 },
      ],
      memory: { totalBytes: 1_024_000, availableBytes: 614_400, freeBytes: 102_400 },
      disks: [{ name: "sda", readBytes: 5120, writeBytes: 10_240 }],
      interfaces: [
        { name: "eth0", up: true, rxBytes: 500, txBytes: 300 },
        { name: "wg0", up: true, rxBytes: 5, txBytes: 3 },
      ],
      defaultInterface: "wg0",
      cpuTemperatureCelsius: undefined,
    });
    expect(reading.filesystems).toHaveLength(1);
    expect(reading.filesystems[0]).toMatchObject({ device: "/dev/fake1", mount: mountPoint, type: "ext4" });
    expect(reading.filesystems[0]?.sizeBytes).toBeGreaterThan(0);
  });
});
