import { describe, expect, it } from "vitest";
import { cpuFacts, osFacts, parseOsRelease } from "./host-facts.ts";

describe("os-release", () => {
  it("reads quoted and unquoted values", () => {
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# comment\n')).toEqual({
      NAME: "Debian GNU/Linux",
      VERSION_ID: "12",
      ID: "debian",
    });
  });

  it.each([
    [
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n',
      "Debian GNU/Linux",
      "12",
    ],
    ['NAME="Alpine Linux"\nVERSION_ID=3.20.1\n', "Alpine Linux", "3.20.1"],
    ['NAME="Arch Linux"\nBUILD_ID=rolling\n', "Arch Linux", "rolling"],
    ["", "Linux", ""],
  ])("%j → %s %s", (text, distro, release) => {
    expect(osFacts(text, "6.1.0", "arm64")).toEqual({
      platform: "linux",
      distro,
      release,
      kernel: "6.1.0",
      arch: "arm64",
    });
  });
});

const X86 = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz
cpu MHz\t\t: 1800.000
physical id\t: 0
core id\t\t: 0

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz
physical id\t: 0
core id\t\t: 0

processor\t: 2
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz
physical id\t: 0
core id\t\t: 1
`;

// A Raspberry Pi 4 (arm64 kernel): no model name, ARM implementer and part codes.
const PI4 = `processor\t: 0
BogoMIPS\t: 108.00
CPU implementer\t: 0x41
CPU architecture: 8
CPU part\t: 0xd08

processor\t: 1
BogoMIPS\t: 108.00
CPU implementer\t: 0x41
CPU architecture: 8
CPU part\t: 0xd08

Hardware\t: BCM2835
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
`;

// A 32-bit Raspberry Pi OS kernel: "model name" is the ISA, not the core.
const PI3_ARMV7 = `processor\t: 0
model name\t: ARMv7 Processor rev 4 (v7l)
CPU implementer\t: 0x41
CPU part\t: 0xd03
`;

describe("cpu facts", () => {
  it.each([
    [
      "x86",
      X86,
      3,
      3_400_000,
      { manufacturer: "Intel", model: "Core i5-8250U", physicalCores: 2, speedGhz: 3.4 },
    ],
    ["x86 without cpufreq", X86, 3, undefined, { speedGhz: 1.8 }],
    [
      "AMD",
      "processor : 0\nvendor_id : AuthenticAMD\nmodel name : AMD EPYC\n",
      2,
      undefined,
      { manufacturer: "AMD", model: "EPYC", physicalCores: 1 },
    ],
    [
      "Raspberry Pi 4",
      PI4,
      2,
      1_800_000,
      { manufacturer: "ARM", model: "Cortex-A72", physicalCores: 2, speedGhz: 1.8 },
    ],
    ["armv7", PI3_ARMV7, 1, 1_200_000, { manufacturer: "ARM", model: "Cortex-A53", physicalCores: 1 }],
  ])("%s", (_name, text, cores, khz, expected) => {
    expect(cpuFacts(text, cores, khz)).toMatchObject({ cores, ...expected });
  });
});
