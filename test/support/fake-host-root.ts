// A fake host's /proc, /sys and / in a directory, for the agent's procRoot / sysRoot / rootfs settings.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A host with one real filesystem (/srv/data), one NIC (enp1s0) and a Pi's CPU, under `root`. */
export async function fakeHostRoot(
  root: string,
): Promise<{ procRoot: string; sysRoot: string; rootfs: string }> {
  const files: Record<string, string> = {
    "proc/stat": "cpu  300 0 100 600 0 0 0 0 0 0\ncpu0 300 0 100 600 0 0 0 0 0 0\n",
    "proc/meminfo":
      "MemTotal: 4096000 kB\nMemFree: 100000 kB\nMemAvailable: 2048000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    "proc/diskstats": "   179       0 mmcblk0 1 0 10 0 1 0 20 0 0 0 0\n",
    "proc/net/dev":
      "h1\nh2\n    lo: 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0\nenp1s0: 500 0 0 0 0 0 0 0 300 0 0 0 0 0 0 0\n",
    "proc/net/route":
      "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nenp1s0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n",
    // The host's mount table is init's; the container's own (self/mounts) must not be used.
    "proc/1/mounts": "/dev/mmcblk0p2 /srv/data ext4 rw 0 0\nproc /proc proc rw 0 0\n",
    "proc/self/mounts": "overlay / overlay rw 0 0\n",
    "proc/cpuinfo":
      "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\nModel\t: Raspberry Pi 4 Model B\n",
    "sys/class/net/enp1s0/flags": "0x1003\n",
    "sys/class/net/enp1s0/operstate": "up\n",
    "sys/class/net/enp1s0/speed": "1000\n",
    "sys/class/net/enp1s0/device/.keep": "",
    "root/etc/os-release": 'NAME="Fake Host OS"\nVERSION_ID="42"\n',
    "root/srv/data/.keep": "",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return { procRoot: join(root, "proc"), sysRoot: join(root, "sys"), rootfs: join(root, "root") };
}
