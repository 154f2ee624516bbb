import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findCpuTemperature, listSensors, pickCpuSensor, type SensorCandidate } from "./temperature.ts";

const hwmon = (source: string, label: string, path = `${source}/${label}`): SensorCandidate => ({
  path,
  source,
  label,
  kind: "hwmon",
});
const zone = (source: string, path = source): SensorCandidate => ({
  path,
  source,
  label: "",
  kind: "thermal",
});

describe("pickCpuSensor", () => {
  it.each([
    {
      name: "Intel package over cores",
      candidates: [hwmon("coretemp", "Core 0"), hwmon("coretemp", "Package id 0")],
      path: "coretemp/Package id 0",
    },
    {
      name: "AMD Tctl",
      candidates: [hwmon("nvme", "Composite"), hwmon("k10temp", "Tctl")],
      path: "k10temp/Tctl",
    },
    {
      name: "Raspberry Pi hwmon without label",
      candidates: [hwmon("cpu_thermal", "")],
      path: "cpu_thermal/",
    },
    {
      name: "thermal zone when no CPU chip",
      candidates: [hwmon("nvme", "Composite"), zone("acpitz"), zone("x86_pkg_temp")],
      path: "x86_pkg_temp",
    },
    {
      name: "board sensors are not the CPU",
      candidates: [hwmon("nvme", "Composite"), zone("acpitz")],
      path: undefined,
    },
    { name: "nothing exposed", candidates: [], path: undefined },
  ])("$name", ({ candidates, path }) => {
    expect(pickCpuSensor(candidates)).toBe(path);
  });
});

describe("sysfs discovery", () => {
  let root: string;
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function sysfs(files: Record<string, string>): Promise<string> {
    root = await mkdtemp(join(tmpdir(), "k3sf-sys-"));
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }

  it("finds the package sensor and reads it in degrees", async () => {
    const sys = await sysfs({
      "class/hwmon/hwmon0/name": "acpitz\n",
      "class/hwmon/hwmon0/temp1_input": "27800\n",
      "class/hwmon/hwmon2/name": "coretemp\n",
      "class/hwmon/hwmon2/temp1_label": "Package id 0\n",
      "class/hwmon/hwmon2/temp1_input": "52000\n",
      "class/hwmon/hwmon2/temp2_label": "Core 0\n",
      "class/hwmon/hwmon2/temp2_input": "50000\n",
    });
    expect((await listSensors(sys)).map((s) => s.source)).toEqual(["acpitz", "coretemp", "coretemp"]);
    const read = await findCpuTemperature(sys);
    expect(await read?.()).toBe(52);
  });

  it("reports no sensor when the only CPU sensor reads nonsense", async () => {
    const sys = await sysfs({
      "class/thermal/thermal_zone0/type": "cpu-thermal\n",
      "class/thermal/thermal_zone0/temp": "0\n",
    });
    expect(await findCpuTemperature(sys)).toBeUndefined();
  });

  it("reports no sensor on a machine without hwmon or thermal zones", async () => {
    expect(await findCpuTemperature(await sysfs({}))).toBeUndefined();
  });
});
