// The birth's OS and CPU facts, read from the host's own files: `<rootfs>/etc/os-release`,
// `<procRoot>/cpuinfo` and `<sysRoot>/devices/system/cpu`. This replaced systeminformation (issue 14): it
// was the agent's largest module, ran lscpu/dmidecode and a dozen other processes for these few fields, and
// read the container's /etc/os-release in a DaemonSet where the host's is at the mounted root.
import { readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { StaticFacts } from "./readings.ts";

export type OsFacts = StaticFacts["os"];
export type CpuFacts = StaticFacts["cpu"];

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1]) continue;
    out[match[1]] = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2").replace(/\\(.)/g, "$1");
  }
  return out;
}

/** Node's os.arch() names, as systeminformation reported them (x64, arm64, arm). */
export function osFacts(osRelease: string, kernel: string, arch: string): OsFacts {
  const fields = parseOsRelease(osRelease);
  return {
    platform: "linux",
    distro: fields.NAME ?? fields.PRETTY_NAME ?? "Linux",
    release: fields.VERSION_ID ?? fields.BUILD_ID ?? "",
    kernel,
    arch,
  };
}

const VENDORS: Record<string, string> = {
  GenuineIntel: "Intel",
  AuthenticAMD: "AMD",
  HygonGenuine: "Hygon",
  CentaurHauls: "VIA",
};
/** ARM "CPU implementer" codes. */
const IMPLEMENTERS: Record<string, string> = {
  "0x41": "ARM",
  "0x42": "Broadcom",
  "0x43": "Cavium",
  "0x48": "HiSilicon",
  "0x51": "Qualcomm",
  "0x61": "Apple",
  "0xc0": "Ampere",
};
/** ARM Ltd "CPU part" codes of the cores edge boards use. */
const ARM_PARTS: Record<string, string> = {
  "0xc07": "Cortex-A7",
  "0xc08": "Cortex-A8",
  "0xc09": "Cortex-A9",
  "0xc0f": "Cortex-A15",
  "0xd03": "Cortex-A53",
  "0xd04": "Cortex-A35",
  "0xd05": "Cortex-A55",
  "0xd07": "Cortex-A57",
  "0xd08": "Cortex-A72",
  "0xd09": "Cortex-A73",
  "0xd0a": "Cortex-A75",
  "0xd0b": "Cortex-A76",
  "0xd0c": "Neoverse-N1",
  "0xd0d": "Cortex-A77",
  "0xd40": "Neoverse-V1",
  "0xd41": "Cortex-A78",
  "0xd46": "Cortex-A510",
  "0xd47": "Cortex-A710",
  "0xd49": "Neoverse-N2",
};

/**
 * CPU facts from /proc/cpuinfo (x86: vendor_id, model name; ARM: CPU implementer, CPU part), with the
 * highest frequency from cpufreq in kHz when the kernel has it. `cores` is the caller's (cgroup-aware) count.
 */
export function cpuFacts(cpuinfo: string, cores: number, maxFreqKHz: number | undefined): CpuFacts {
  const blocks = cpuinfo.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string | undefined, key: string) =>
    new RegExp(`^${key}\\s*:\\s*(.*)$`, "m").exec(block ?? "")?.[1]?.trim();
  const first = blocks[0] ?? cpuinfo;
  const vendor = field(first, "vendor_id");
  const implementer = field(first, "CPU implementer");
  const manufacturer =
    (vendor && (VENDORS[vendor] ?? vendor)) ||
    (implementer && (IMPLEMENTERS[implementer] ?? implementer)) ||
    "";
  const modelName = field(first, "model name") ?? field(first, "Processor") ?? field(first, "cpu model");
  const part = field(first, "CPU part");
  let model =
    modelName && !/^ARMv\d/i.test(modelName)
      ? modelName
      : ((part && implementer === "0x41" ? ARM_PARTS[part] : undefined) ?? modelName ?? "");
  // "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz" → "Core i5-8250U", as systeminformation's brand.
  model = model
    .replace(/\((R|TM|tm|r)\)/g, "")
    .replace(/\s+(CPU|Processor)?\s*@\s*[\d.]+\s*GHz$/i, "")
    .replace(/\s+\d+-Core Processor$/i, "")
    .trim();
  if (manufacturer && model.toLowerCase().startsWith(`${manufacturer.toLowerCase()} `)) {
    model = model.slice(manufacturer.length + 1).trim();
  }
  const physical = new Set(
    blocks
      .map((b) => [field(b, "physical id"), field(b, "core id")])
      .filter(([, core]) => core !== undefined)
      .map(([pkg, core]) => `${pkg ?? 0}/${core}`),
  );
  const mhz = Number(field(first, "cpu MHz"));
  const speedGhz =
    maxFreqKHz !== undefined && maxFreqKHz > 0
      ? maxFreqKHz / 1e6
      : Number.isFinite(mhz) && mhz > 0
        ? Math.round(mhz) / 1000
        : 0;
  return {
    manufacturer,
    model,
    cores,
    physicalCores: physical.size > 0 ? physical.size : blocks.length || cores,
    speedGhz: Math.round(speedGhz * 100) / 100,
  };
}

export interface HostRoots {
  procRoot: string;
  sysRoot: string;
  /** The host's root file system (`/` outside a container; e.g. `/host/root` in the DaemonSet). */
  rootfs: string;
}

const readText = (path: string) => readFile(path, "utf8").catch(() => "");

/** OS and CPU facts of the host the roots point at; the kernel and architecture are this process's own. */
export async function readHostFacts(roots: HostRoots, cores: Promise<number>) {
  const [osRelease, usrOsRelease, cpuinfo, maxFreq, coreCount] = await Promise.all([
    readText(join(roots.rootfs, "etc/os-release")),
    readText(join(roots.rootfs, "usr/lib/os-release")),
    readText(join(roots.procRoot, "cpuinfo")),
    readText(join(roots.sysRoot, "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")),
    cores,
  ]);
  const khz = Number.parseInt(maxFreq.trim(), 10);
  return {
    os: osFacts(osRelease || usrOsRelease, os.release(), os.arch()),
    cpu: cpuFacts(cpuinfo, coreCount, Number.isFinite(khz) ? khz : undefined),
  };
}
