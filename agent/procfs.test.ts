import { describe, expect, it } from "vitest";
import {
  parseCfsQuota,
  parseCpuMax,
  parseCpuStat,
  parseDefaultRoute,
  parseDiskstats,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseSelfCgroup,
} from "./procfs.ts";

describe("parseCpuStat", () => {
  it("sums busy and total ticks, iowait counted idle, guest not counted twice", () => {
    const text = [
      "cpu  100 10 50 800 40 5 5 10 7 0",
      "cpu0 60 10 20 400 20 5 5 0 7 0",
      "cpu1 40 0 30 400 20 0 0 10 0 0",
      "intr 526006 0 0",
      "ctxt 12345",
    ].join("\n");
    expect(parseCpuStat(text)).toEqual({
      total: { busy: 180, total: 1020 },
      cores: [
        { busy: 100, total: 520 },
        { busy: 80, total: 500 },
      ],
    });
  });

  it("keeps the order of cores and skips holes left by offline CPUs", () => {
    const text = "cpu  2 0 0 2 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0\ncpu2 1 0 0 1 0 0 0 0\n";
    expect(parseCpuStat(text).cores).toHaveLength(2);
  });
});

describe("parseMeminfo", () => {
  it.each([
    {
      name: "modern kernel",
      text: "MemTotal: 24684084 kB\nMemFree: 1000 kB\nMemAvailable: 2000 kB\nBuffers: 10 kB\nCached: 20 kB\nSwapTotal: 4 kB\nSwapFree: 1 kB\n",
      expected: {
        totalBytes: 24684084 * 1024,
        availableBytes: 2000 * 1024,
        freeBytes: 1000 * 1024,
        swapTotalBytes: 4096,
        swapFreeBytes: 1024,
      },
    },
    {
      name: "pre-3.14 kernel without MemAvailable",
      text: "MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n",
      expected: {
        totalBytes: 102400,
        availableBytes: 35 * 1024,
        freeBytes: 10240,
        swapTotalBytes: 0,
        swapFreeBytes: 0,
      },
    },
  ])("$name", ({ text, expected }) => {
    expect(parseMeminfo(text)).toEqual(expected);
  });
});

describe("parseDiskstats", () => {
  it("turns sectors into bytes (always 512-byte sectors)", () => {
    const text = [
      "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
      " 254       0 vda 20561 4740 1390602 53838 2767 25209 2135096 4933 0 5076 60814 4069 55 48752 2041 4 0",
      " 259       1 nvme0n1p1 1 0 8 0 2 0 16 0 0 0 0",
    ].join("\n");
    expect(parseDiskstats(text)).toEqual([
      { name: "loop0", readBytes: 0, writeBytes: 0 },
      { name: "vda", readBytes: 1390602 * 512, writeBytes: 2135096 * 512 },
      { name: "nvme0n1p1", readBytes: 4096, writeBytes: 8192 },
    ]);
  });
});

describe("parseNetDev", () => {
  it("reads rx and tx bytes, also when a large counter runs into the name", () => {
    const text = [
      "Inter-|   Receive                                                |  Transmit",
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
      "    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0",
      "  eth0:712609242   17324    0    0    0     0          0         0  1235311   10033    0    0    0     0       0          0",
    ].join("\n");
    expect(parseNetDev(text)).toEqual([
      { name: "lo", rxBytes: 3193, txBytes: 3193 },
      { name: "eth0", rxBytes: 712609242, txBytes: 1235311 },
    ]);
  });
});

describe("parseDefaultRoute", () => {
  const header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT";
  const v6Reject =
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo";
  const v6Default =
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     wlan0";
  it.each([
    {
      name: "IPv4 default route",
      v4: [
        header,
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
      ],
      v6: "",
      expected: "eth0",
    },
    {
      name: "lowest metric wins",
      v4: [
        header,
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0",
        "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
      ],
      v6: "",
      expected: "eth0",
    },
    {
      name: "a route that is not up is no way out",
      v4: [header, "eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0"],
      v6: "",
      expected: undefined,
    },
    {
      name: "no IPv4 route: the IPv6 default, not the reject route on lo",
      v4: [header],
      v6: `${v6Reject}\n${v6Default}`,
      expected: "wlan0",
    },
    { name: "only the IPv6 reject route: offline", v4: [header], v6: v6Reject, expected: undefined },
  ])("$name", ({ v4, v6, expected }) => {
    expect(parseDefaultRoute(v4.join("\n"), v6)).toBe(expected);
  });
});

describe("parseMounts", () => {
  it("decodes octal escapes in paths", () => {
    const text = "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /mnt/my\\040disk vfat rw 0 0\n";
    expect(parseMounts(text)).toEqual([
      { device: "/dev/sda1", mount: "/", type: "ext4" },
      { device: "/dev/sdb1", mount: "/mnt/my disk", type: "vfat" },
    ]);
  });
});

describe("cgroup CPU quota", () => {
  it.each([
    { text: "max 100000\n", expected: undefined },
    { text: "200000 100000\n", expected: 2 },
    { text: "150000 100000", expected: 1.5 },
    { text: "", expected: undefined },
  ])("cpu.max $text → $expected", ({ text, expected }) => {
    expect(parseCpuMax(text)).toBe(expected);
  });

  it.each([
    { quota: "-1\n", period: "100000\n", expected: undefined },
    { quota: "50000\n", period: "100000\n", expected: 0.5 },
  ])("cfs quota $quota / $period → $expected", ({ quota, period, expected }) => {
    expect(parseCfsQuota(quota, period)).toBe(expected);
  });

  it("finds the v2 path and the v1 cpu controller path", () => {
    expect(parseSelfCgroup("0::/system.slice/k3s-fleet.service\n")).toEqual({
      v2: "/system.slice/k3s-fleet.service",
    });
    expect(parseSelfCgroup("4:cpu,cpuacct:/docker/abc\n2:memory:/docker/abc\n0::/\n")).toEqual({
      v1Cpu: "/docker/abc",
      v2: "/",
    });
  });
});
