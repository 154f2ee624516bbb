// CPU temperature from sysfs. systeminformation's cpuTemperature() runs a shell loop over hwmon and a
// synchronous `cat` of the thermal zones on every call; the sensor does not move, so it is found once
// here and each sample reads one small file.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface SensorCandidate {
  /** File holding millidegrees Celsius. */
  path: string;
  /** hwmon chip name (coretemp, k10temp, cpu_thermal, ...) or thermal zone type (x86_pkg_temp, ...). */
  source: string;
  /** hwmon temp*_label, empty for thermal zones and unlabelled inputs. */
  label: string;
  kind: "hwmon" | "thermal";
}

const CPU_CHIPS = /^(coretemp|k10temp|zenpower|cpu_thermal|cpu-thermal|soc_thermal|cpu)$/i;
const PACKAGE_LABEL = /^(package id \d+|tctl|tdie|physical id \d+|cpu)$/i;
const CPU_ZONE = /x86_pkg_temp|cpu|soc/i;

/**
 * The best CPU sensor among candidates: a CPU chip's package label (Package id 0, Tctl, Tdie), then any
 * input of a CPU chip, then a CPU thermal zone. Board sensors (acpitz, nvme, pch) are not the CPU.
 */
export function pickCpuSensor(candidates: readonly SensorCandidate[]): string | undefined {
  const hwmon = candidates.filter((c) => c.kind === "hwmon" && CPU_CHIPS.test(c.source));
  return (
    hwmon.find((c) => PACKAGE_LABEL.test(c.label))?.path ??
    hwmon[0]?.path ??
    candidates.find((c) => c.kind === "thermal" && CPU_ZONE.test(c.source))?.path
  );
}

/** Lists the temperature inputs under a sysfs root (default /sys). Missing directories give none. */
export async function listSensors(sysRoot = "/sys"): Promise<SensorCandidate[]> {
  const found: SensorCandidate[] = [];
  const hwmonDir = join(sysRoot, "class/hwmon");
  for (const chip of (await list(hwmonDir)).sort(byNumber)) {
    const dir = join(hwmonDir, chip);
    const source = (await text(join(dir, "name"))).trim();
    const inputs = (await list(dir)).filter((f) => /^temp\d+_input$/.test(f)).sort(byNumber);
    for (const input of inputs) {
      const label = (await text(join(dir, input.replace("_input", "_label")))).trim();
      found.push({ path: join(dir, input), source, label, kind: "hwmon" });
    }
  }
  const thermalDir = join(sysRoot, "class/thermal");
  for (const zone of (await list(thermalDir)).filter((z) => z.startsWith("thermal_zone")).sort(byNumber)) {
    const source = (await text(join(thermalDir, zone, "type"))).trim();
    found.push({ path: join(thermalDir, zone, "temp"), source, label: "", kind: "thermal" });
  }
  return found;
}

/** Degrees Celsius from a millidegree file; undefined when unreadable or implausible. */
export async function readCelsius(path: string): Promise<number | undefined> {
  const milli = Number((await text(path)).trim());
  const celsius = milli / 1000;
  // Disconnected sensors report 0, -273 or huge values; none of them is a CPU temperature.
  return Number.isFinite(celsius) && celsius > -40 && celsius < 150 && milli !== 0 ? celsius : undefined;
}

/** Finds the CPU sensor once; returns a reader for it, or undefined when the machine exposes none. */
export async function findCpuTemperature(
  sysRoot = "/sys",
): Promise<(() => Promise<number | undefined>) | undefined> {
  const path = pickCpuSensor(await listSensors(sysRoot));
  if (path === undefined || (await readCelsius(path)) === undefined) return undefined;
  return () => readCelsius(path);
}

function byNumber(a: string, b: string): number {
  return Number(/\d+/.exec(a)?.[0] ?? 0) - Number(/\d+/.exec(b)?.[0] ?? 0);
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function text(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return "";
  }
}
